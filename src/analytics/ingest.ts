// recordSessionEvents: writes a batch of session events and folds them into user_skill_agg in the
// same transaction, counting only the rows actually inserted, so a retried batch changes nothing and
// the aggregates do not depend on the order events arrive in.

import { Pool } from "pg";
import { ConnectionRetryOptions, withConnectionRetry } from "../client/retry";
import { onlyRow } from "../client/rows";
import { inTransaction } from "../client/transaction";
import { NormalizedEvent, SessionEvent, validateEventsYielding, ValidationOptions } from "./events";
import { PulseAnalyticsError } from "../support/errors";

export interface RecordOptions extends ValidationOptions {
  /** Events per transaction; each chunk commits on its own. @default 2500 */
  readonly chunkSize?: number;
  /** Attempts for a chunk that meets a serialization failure or deadlock (40001, 40P01). @default 6 */
  readonly maxAttempts?: number;
  /**
   * Chunks written at once, each on its own connection. Chunks are consecutive slices of the batch
   * sorted by (user, skill), so they touch almost disjoint aggregate rows, always in the same order.
   * @default 2
   */
  readonly concurrency?: number;
  /**
   * How a chunk is written again after a lost or refused connection (a failover, a restart): safe,
   * because a chunk stores only events not yet stored and folds only those into the aggregates.
   * @default the defaults of withConnectionRetry (90 s deadline, jittered backoff up to 5 s)
   */
  readonly connectionRetry?: ConnectionRetryOptions;
}

export interface RecordResult {
  /** Events stored by this call. */
  readonly inserted: number;
  /** Events that were already stored as sent (a retry), or repeated within the batch. */
  readonly duplicates: number;
  /**
   * Events refused because their eventId is already stored for another event: not stored, not
   * counted. A client bug (a re-stamped retry, a reused id); the stored event stays as it was.
   */
  readonly conflicts: readonly EventConflict[];
}

/** An event whose eventId names a stored event with another time or other content. */
export interface EventConflict {
  readonly eventId: string;
  /** The occurredAt sent, ISO 8601. */
  readonly occurredAt: string;
  /** The occurred_at of the stored event with this id, ISO 8601. */
  readonly storedOccurredAt: string;
  /** "other-time": stored with another occurred_at; "other-content": same time, another user, session, skill, score or metrics. */
  readonly reason: "other-time" | "other-content";
}

/**
 * How far from an event's occurred_at a stored event with the same id is looked for. The stored key
 * is (event_id, occurred_at), as partitioning requires, so only this window is searched: it catches a
 * client that re-stamps a retry (seconds to days later) and costs one or two partitions' index per chunk.
 */
export const CONFLICT_WINDOW_DAYS = 35;

/**
 * One statement per chunk: find stored events that share an id with a sent one but differ from it
 * (within $8..$9, the chunk's times widened by CONFLICT_WINDOW_DAYS); insert the other events, skipping
 * those already stored; aggregate only the rows that RETURNING says were inserted; upsert the aggregates in (user_id, skill) order, so concurrent
 * writers lock rows in one order. The latest score is that of the greatest (occurred_at, event_id),
 * whichever arrives first.
 */
const INGEST_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::numeric[], $7::jsonb[])
    AS t(event_id, user_id, session_id, skill, occurred_at, score, metrics)
),
-- MATERIALIZED: planned on its own, as index probes of the window's partitions for the chunk's ids.
stored AS MATERIALIZED (
  SELECT event_id, occurred_at, user_id, session_id, skill, score, metrics
  FROM analytics.session_events
  WHERE event_id = ANY ($1::uuid[]) AND occurred_at >= $8::timestamptz AND occurred_at < $9::timestamptz
),
conflicting AS (
  SELECT i.event_id, i.occurred_at, s.occurred_at AS stored_occurred_at,
         CASE WHEN s.occurred_at <> i.occurred_at THEN 'other-time' ELSE 'other-content' END AS reason
  FROM input i JOIN stored s USING (event_id)
  WHERE s.occurred_at <> i.occurred_at
     OR (s.user_id, s.session_id, s.skill, s.score, s.metrics)
        IS DISTINCT FROM (i.user_id, i.session_id, i.skill, i.score::numeric(5,2), i.metrics)
),
inserted AS (
  INSERT INTO analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score, metrics)
  SELECT event_id, user_id, session_id, skill, occurred_at, score, metrics FROM input
  WHERE event_id NOT IN (SELECT event_id FROM conflicting)
  ON CONFLICT (event_id, occurred_at) DO NOTHING
  RETURNING event_id, user_id, skill, occurred_at, score
),
delta AS (
  SELECT user_id, skill,
         count(*) AS event_count,
         sum(score) AS score_sum,
         sum(score * score) AS score_sum_squares,
         min(occurred_at) AS first_occurred_at,
         max(occurred_at) AS last_occurred_at,
         (array_agg(event_id ORDER BY occurred_at DESC, event_id DESC))[1] AS last_event_id,
         (array_agg(score ORDER BY occurred_at DESC, event_id DESC))[1] AS last_score
  FROM inserted
  GROUP BY user_id, skill
),
folded AS (
  INSERT INTO analytics.user_skill_agg AS agg
    (user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score, updated_at)
  SELECT user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score, now()
  FROM delta
  ORDER BY user_id, skill
  ON CONFLICT (user_id, skill) DO UPDATE SET
    event_count = agg.event_count + EXCLUDED.event_count,
    score_sum = agg.score_sum + EXCLUDED.score_sum,
    score_sum_squares = agg.score_sum_squares + EXCLUDED.score_sum_squares,
    first_occurred_at = least(agg.first_occurred_at, EXCLUDED.first_occurred_at),
    last_occurred_at = greatest(agg.last_occurred_at, EXCLUDED.last_occurred_at),
    last_event_id = CASE WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_event_id) > (agg.last_occurred_at, agg.last_event_id)
                         THEN EXCLUDED.last_event_id ELSE agg.last_event_id END,
    last_score = CASE WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_event_id) > (agg.last_occurred_at, agg.last_event_id)
                      THEN EXCLUDED.last_score ELSE agg.last_score END,
    updated_at = now()
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM folded)::int AS aggregates,
       (SELECT coalesce(json_agg(json_build_object(
          'eventId', event_id, 'occurredAt', occurred_at, 'storedOccurredAt', stored_occurred_at, 'reason', reason)
          ORDER BY event_id, stored_occurred_at), '[]') FROM conflicting) AS conflicts`;

const RETRYABLE = new Set(["40001", "40P01"]);

/**
 * Raised when an event's month has no session_events partition and ingest could not create it (the
 * role lacks EXECUTE on analytics.ensure_session_event_partitions, granted by migration 4).
 */
export class MissingPartitionError extends PulseAnalyticsError {
  constructor(detail: string) {
    super(
      `an event's occurred_at falls in a month without a session_events partition (${detail}), and creating it failed; nothing of this chunk was written. Run npm run db:migrate (the app role may create partitions from migration 4 on), or create the months with npm run db:maintain.`,
    );
  }
}

/**
 * Raised when a chunk fails for good after other chunks of the batch were stored: says how much is in,
 * which chunk failed (its first event), and why (`cause`). Sending the whole batch again is safe.
 */
export class PartlyStoredError extends PulseAnalyticsError {
  constructor(
    /** Events of the batch in chunks that completed (stored by this call, or found already stored). */
    public readonly stored: number,
    public readonly total: number,
    /** The event ids of the chunk that failed. */
    public readonly failedEventIds: readonly string[],
    public readonly cause: unknown,
  ) {
    super(
      `${stored} of ${total} events were stored before a chunk of ${failedEventIds.length} (first event ${failedEventIds[0]}) failed: ` +
        `${String((cause as Error)?.message ?? cause)} Sending the batch again is safe: what is stored is recognised.`,
    );
  }
}

/**
 * Records session events idempotently. Validates the whole batch first (throws InvalidEventsError
 * with every bad event's index, writing nothing), then writes it in chunks of `chunkSize`, each
 * atomic. Retrying a call, whole or after a failure part-way, is always safe.
 */
export async function recordSessionEvents(pool: Pool, events: readonly SessionEvent[], options: RecordOptions = {}): Promise<RecordResult> {
  // In slices, handing the event loop back between them: a large batch does not stall the caller's server.
  const valid = await validateEventsYielding(events, options);
  // One order for every writer: chunks hold neighbouring (user, skill) pairs and lock them in sequence.
  const sorted = [...valid].sort(compareForLocking);
  const chunkSize = options.chunkSize ?? 2500;
  const chunks: NormalizedEvent[][] = [];
  for (let start = 0; start < sorted.length; start += chunkSize) chunks.push(sorted.slice(start, start + chunkSize));
  let inserted = 0;
  const conflicts: EventConflict[] = [];
  let completed = 0;
  let next = 0;
  let firstFailure: { error: unknown; chunk: NormalizedEvent[] } | undefined;
  const worker = async () => {
    // After a failure no worker starts another chunk: the caller re-sends the batch anyway.
    while (firstFailure === undefined) {
      const chunk = chunks[next++];
      if (chunk === undefined) break;
      try {
        // Awaited first, then added: `inserted += await …` would read `inserted` before another worker adds.
        const written = await withConnectionRetry(() => writeChunk(pool, chunk, options.maxAttempts ?? 6), options.connectionRetry);
        inserted += written.inserted;
        conflicts.push(...written.conflicts);
        completed += chunk.length;
      } catch (error) {
        firstFailure ??= { error, chunk };
      }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 2, chunks.length)) }, worker));
  if (firstFailure !== undefined) {
    // Nothing stored: the error as it came. Part stored: say how much, and which chunk failed.
    if (completed === 0) throw firstFailure.error;
    throw new PartlyStoredError(
      completed,
      valid.length,
      firstFailure.chunk.map((e) => e.eventId),
      firstFailure.error,
    );
  }
  conflicts.sort((a, b) => (a.eventId < b.eventId ? -1 : a.eventId > b.eventId ? 1 : 0));
  const conflictingEvents = new Set(conflicts.map((c) => c.eventId)).size;
  return { inserted, duplicates: events.length - inserted - conflictingEvents, conflicts };
}

function compareForLocking(a: NormalizedEvent, b: NormalizedEvent): number {
  return a.userId < b.userId
    ? -1
    : a.userId > b.userId
      ? 1
      : a.skill < b.skill
        ? -1
        : a.skill > b.skill
          ? 1
          : a.eventId < b.eventId
            ? -1
            : a.eventId > b.eventId
              ? 1
              : 0;
}

interface ChunkResult {
  readonly inserted: number;
  readonly conflicts: readonly EventConflict[];
}

async function writeChunk(pool: Pool, chunk: NormalizedEvent[], maxAttempts: number): Promise<ChunkResult> {
  let earliest = Infinity;
  let latest = -Infinity;
  for (const event of chunk) {
    earliest = Math.min(earliest, event.occurredAtMs);
    latest = Math.max(latest, event.occurredAtMs);
  }
  const window = CONFLICT_WINDOW_DAYS * 24 * 60 * 60 * 1000;
  const params = [
    chunk.map((e) => e.eventId),
    chunk.map((e) => e.userId),
    chunk.map((e) => e.sessionId),
    chunk.map((e) => e.skill),
    chunk.map((e) => new Date(e.occurredAtMs).toISOString()),
    chunk.map((e) => e.score),
    chunk.map((e) => e.metrics),
    new Date(earliest - window).toISOString(),
    new Date(latest + window + 1).toISOString(),
  ];
  let partitionsCreated = false;
  for (let attempt = 1; ; attempt++) {
    let missingPartition: Error | undefined;
    try {
      const result = await inTransaction(pool, (client) => client.query<{ inserted: number; conflicts: EventConflict[] }>(INGEST_SQL, params));
      const { inserted, conflicts } = onlyRow(result, "the ingest statement");
      return {
        inserted,
        conflicts: conflicts.map((c) => ({ ...c, occurredAt: isoTime(c.occurredAt), storedOccurredAt: isoTime(c.storedOccurredAt) })),
      };
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (code === "23514" && /no partition of relation/.test(String((error as Error).message))) {
        const detail = String((error as { detail?: string }).detail ?? "no detail");
        if (partitionsCreated) throw new MissingPartitionError(detail);
        missingPartition = error as Error;
      } else {
        // Anything else but a serialization failure or deadlock goes to the caller (withConnectionRetry
        // writes the chunk again after a lost connection).
        if (!code || !RETRYABLE.has(code) || attempt >= maxAttempts) throw error;
        // Exponential backoff with full jitter: 10 ms, 20 ms, 40 ms … capped at 1 s.
        await new Promise((resolve) => setTimeout(resolve, Math.random() * Math.min(1000, 10 * 2 ** (attempt - 1))));
      }
    }
    if (missingPartition) {
      // A month without a partition (db:maintain not run, a device clock ahead): create the chunk's months
      // and write the chunk again. The function is idempotent and serialises concurrent callers.
      await createMonthPartitions(pool, chunk, missingPartition);
      partitionsCreated = true;
      attempt--;
    }
  }
}

/** Creates the partition of every UTC month the chunk's events fall in (those that exist are left alone). */
async function createMonthPartitions(pool: Pool, chunk: NormalizedEvent[], cause: Error): Promise<void> {
  const months = [...new Set(chunk.map((e) => new Date(e.occurredAtMs).toISOString().slice(0, 7)))].sort();
  for (const month of months) {
    try {
      await pool.query("SELECT analytics.ensure_session_event_partitions(0, $1::date)", [`${month}-01`]);
    } catch (error) {
      if ((error as { code?: string }).code === "42501")
        throw new MissingPartitionError(String((cause as { detail?: string }).detail ?? "no detail"));
      throw error;
    }
  }
}

/** json_build_object writes a timestamptz in the session's zone ("…+00:00"): the same instant as ISO 8601 UTC. */
function isoTime(text: string): string {
  return new Date(text).toISOString();
}
