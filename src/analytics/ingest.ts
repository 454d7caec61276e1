// recordSessionEvents: writes a batch of session events and folds them into user_skill_agg in the
// same transaction, counting only the rows actually inserted, so a retried batch changes nothing and
// the aggregates do not depend on the order events arrive in.
//
// Two ways to write a chunk, one result. The fast path, for a chunk none of whose events is stored
// yet (a probe of the batch, or of the chunk, says so): COPY the chunk into session_events and upsert
// its aggregates, folded here in exact integer hundredths. The exact path, for everything else (a
// retry, a half-stored batch, a conflict, a score with more than two decimals, or a COPY refused
// because a concurrent writer stored one of the events first): one statement that inserts what is
// new and folds only what it inserted.

import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { Pool, PoolClient } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { ConnectionRetryOptions, withConnectionRetry } from "../client/retry";
import { onlyRow } from "../client/rows";
import { inTransaction } from "../client/transaction";
import { isoTime } from "./iso-time";
import { acceptedTimes, isUuid, MAX_BATCH_EVENTS, NormalizedEvent, SessionEvent, validateEventsYielding, ValidationOptions } from "./events";
import { PulseAnalyticsError } from "../support/errors";

/** The largest chunk (one transaction) unless RecordOptions.chunkSize says otherwise. */
const MAX_DEFAULT_CHUNK_SIZE = 10_000;
/** The smallest chunk a batch is split into so that `concurrency` connections share it. */
const MIN_SHARED_CHUNK_SIZE = 2_500;

export interface RecordOptions extends ValidationOptions {
  /**
   * Events per transaction; each chunk commits on its own, and holds its aggregate rows only from its
   * fold to its commit. Larger chunks fold into fewer aggregate rows and, when a chunk probes on its
   * own (the batch's probe found a stored event), make that probe cheaper per event (one walk of each
   * month's primary key serves more ids: 4.8 µs per id at 2,500, 2.6 µs at 10,000, one measurement,
   * not recorded). In the benchmark, one call at a time, chunks of 10,000 did best (0.71–0.85 of COPY,
   * against 0.67–0.75 for 5,000 and 0.65–0.76 for 2,500; four runs each, not recorded).
   * @default the batch shared among `concurrency` chunks, each of 2,500 to 10,000 events
   */
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
 * The exact path, one statement per chunk: find stored events that share an id with a sent one but
 * differ from it (within CONFLICT_WINDOW_DAYS, $8, of its time); insert the other events, skipping
 * those already stored; aggregate only the rows that RETURNING says were inserted; upsert the aggregates in (user_id, skill) order, so concurrent
 * writers lock rows in one order. The latest score is that of the greatest (occurred_at, event_id),
 * whichever arrives first.
 */
const FOLD_INTO_AGGREGATES = `ON CONFLICT (user_id, skill) DO UPDATE SET
    event_count = agg.event_count + EXCLUDED.event_count,
    score_sum = agg.score_sum + EXCLUDED.score_sum,
    score_sum_squares = agg.score_sum_squares + EXCLUDED.score_sum_squares,
    first_occurred_at = least(agg.first_occurred_at, EXCLUDED.first_occurred_at),
    last_occurred_at = greatest(agg.last_occurred_at, EXCLUDED.last_occurred_at),
    last_event_id = CASE WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_event_id) > (agg.last_occurred_at, agg.last_event_id)
                         THEN EXCLUDED.last_event_id ELSE agg.last_event_id END,
    last_score = CASE WHEN (EXCLUDED.last_occurred_at, EXCLUDED.last_event_id) > (agg.last_occurred_at, agg.last_event_id)
                      THEN EXCLUDED.last_score ELSE agg.last_score END,
    updated_at = now()`;

/**
 * Per sent event, a stored event with its id within CONFLICT_WINDOW_DAYS of its time: each probes the
 * primary key of the two or three partitions of its window only (OFFSET 0 keeps the subquery a
 * parameterized nested loop, pruned at run time, instead of a hash join over every partition).
 */
const storedWithSameId = (windowParameter: string) => `
  CROSS JOIN LATERAL (
    SELECT * FROM analytics.session_events s
    WHERE s.event_id = i.event_id
      AND s.occurred_at >= i.occurred_at - ${windowParameter}::interval AND s.occurred_at <= i.occurred_at + ${windowParameter}::interval
    OFFSET 0
  ) s`;

const INGEST_SQL = `
WITH input AS (
  SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::uuid[], $4::text[], $5::timestamptz[], $6::numeric[], $7::jsonb[])
    AS t(event_id, user_id, session_id, skill, occurred_at, score, metrics)
),
stored AS MATERIALIZED (
  SELECT s.event_id, s.occurred_at, s.user_id, s.session_id, s.skill, s.score, s.metrics
  FROM input i ${storedWithSameId("$8")}
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
  ${FOLD_INTO_AGGREGATES}
  RETURNING 1
)
SELECT (SELECT count(*) FROM inserted)::int AS inserted, (SELECT count(*) FROM folded)::int AS aggregates,
       (SELECT coalesce(json_agg(json_build_object(
          'eventId', event_id, 'occurredAt', occurred_at, 'storedOccurredAt', stored_occurred_at, 'reason', reason)
          ORDER BY event_id, stored_occurred_at), '[]') FROM conflicting) AS conflicts`;

/**
 * The fast path's probe: is an event with one of these ids ($1, a batch's or a chunk's) stored between
 * their earliest time less CONFLICT_WINDOW_DAYS ($2) and their latest plus them ($3)? One
 * ScalarArrayOp scan of each partition's primary key in that range: cheaper than a probe per event, and
 * a wider net, which only sends a chunk to the exact path (that applies each event's own window).
 *
 * The ids reach the planner as a sub-select, not as a constant: planning a constant array weighs each
 * of its ids in every partition (a third of the probe's time). The plan is still made for each
 * probe, with the partitions' sizes of the moment and only the months in range. A plan made once and
 * kept (a prepared statement's generic plan) can keep a sequential scan chosen while the month being
 * filled was empty, and compare each of its rows with every id once it has filled: the likely cause of
 * one benchmark run in five taking ten times the server CPU with such a plan.
 */
const ANY_STORED_SQL = `
SELECT EXISTS (
  SELECT 1 FROM analytics.session_events
  WHERE event_id = ANY ((SELECT $1::uuid[])::uuid[]) AND occurred_at >= $2::timestamptz AND occurred_at <= $3::timestamptz
) AS found`;

const COPY_SQL = "COPY analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score, metrics) FROM STDIN";

/** The fast path's aggregates: one row per (user, skill) of the chunk, folded by foldChunk. */
const FOLD_DELTAS_SQL = `
INSERT INTO analytics.user_skill_agg AS agg
  (user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score, updated_at)
SELECT user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score, now()
FROM unnest($1::uuid[], $2::text[], $3::int[], $4::numeric[], $5::numeric[], $6::timestamptz[], $7::timestamptz[], $8::uuid[], $9::numeric[])
  AS d(user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score)
ORDER BY user_id, skill
${FOLD_INTO_AGGREGATES}`;

/** PostgreSQL's unique_violation: a COPY met an event stored (or being stored) by another writer. */
const UNIQUE_VIOLATION = "23505";

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
  // Asked first, answered while the client validates, sorts and folds: the server would wait otherwise.
  const batchProbe = await sendBatchProbe(pool, events, options);
  // In slices, handing the event loop back between them: a large batch does not stall the caller's server.
  // An invalid batch is refused at once, without waiting for the probe (it writes nothing, and its
  // answer, or failure, is dropped).
  const valid = await validateEventsYielding(events, options);
  // One order for every writer: chunks hold neighbouring (user, skill) pairs and lock them in sequence.
  const sorted = valid.sort(compareForLocking); // validation's own array, not the caller's
  const chunkSize = options.chunkSize ?? defaultChunkSize(sorted.length, options.concurrency ?? 2);
  const chunks: NormalizedEvent[][] = [];
  for (let start = 0; start < sorted.length; start += chunkSize) chunks.push(sorted.slice(start, start + chunkSize));
  // Each chunk's aggregates folded for the fast path while the probe runs (a turn of the event loop between chunks).
  const fastPaths: (FastPath | undefined)[] = [];
  for (const chunk of chunks) {
    if (fastPaths.length > 0) await new Promise((resolve) => setImmediate(resolve));
    fastPaths.push(prepareFastPath(chunk));
  }
  // None of the batch's events stored, each asked about as validated: no chunk's first attempt needs a probe of its own.
  if (batchProbe !== undefined && (await batchProbe.answer) === false && valid.every((event) => probedAsValidated(batchProbe, event))) {
    for (const fast of fastPaths) if (fast !== undefined) fast.knownNew = true;
  }
  let inserted = 0;
  const conflicts: EventConflict[] = [];
  let completed = 0;
  let next = 0;
  let firstFailure: { error: unknown; chunk: NormalizedEvent[] } | undefined;
  const worker = async () => {
    // After a failure no worker starts another chunk: the caller re-sends the batch anyway.
    while (firstFailure === undefined) {
      const index = next++;
      const chunk = chunks[index];
      if (chunk === undefined) break;
      try {
        // Awaited first, then added: `inserted += await …` would read `inserted` before another worker adds.
        const written = await withConnectionRetry(() => writeChunk(pool, chunk, fastPaths[index], options.maxAttempts ?? 6), options.connectionRetry);
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

/**
 * A batch of up to 2,500 events in one chunk; up to `concurrency` × 10,000 shared evenly among
 * `concurrency` chunks, so each connection has a part; a larger one in chunks of 10,000.
 */
function defaultChunkSize(events: number, concurrency: number): number {
  return Math.min(MAX_DEFAULT_CHUNK_SIZE, Math.max(MIN_SHARED_CHUNK_SIZE, Math.ceil(events / Math.max(1, concurrency))));
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

/** Writes one chunk in a transaction: by its fast path (`prepared`, if it has one) when it can, else by the exact path. */
async function writeChunk(pool: Pool, chunk: NormalizedEvent[], prepared: FastPath | undefined, maxAttempts: number): Promise<ChunkResult> {
  let fast = prepared;
  let exactParams: unknown[] | undefined;
  let partitionsCreated = false;
  for (let attempt = 1; ; attempt++) {
    let missingPartition: Error | undefined;
    try {
      const fastPath = fast;
      // The batch's probe answers for the first attempt only, whatever becomes of it: a later one
      // (after a lost connection, a serialization failure, a missing partition) probes for itself.
      const knownNew = fastPath?.knownNew === true;
      if (fastPath !== undefined) fastPath.knownNew = false;
      return await inTransaction(pool, async (client) => {
        if (fastPath !== undefined && (await tryFastPath(client, fastPath, knownNew))) return { inserted: chunk.length, conflicts: [] };
        exactParams ??= exactPathParams(chunk);
        return exactPath(client, exactParams);
      });
    } catch (error) {
      const code = (error as { code?: string }).code;
      if (error instanceof FastPathRefused) {
        // Another writer stored one of these events between the probe and the COPY (its COPY or insert
        // committed first): the COPY rolled back with the transaction, and the exact path takes over.
        fast = undefined;
        attempt--;
        continue;
      }
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

/** The exact path's parameters: the chunk as seven arrays, and the conflict window. */
function exactPathParams(chunk: readonly NormalizedEvent[]): unknown[] {
  // Array literals written here rather than by pg, whose generic escaping of each element cost more
  // client time per event than everything else ingest does (issue 14: 8.1 µs of 13 µs per event).
  return [
    bareArray(chunk.map((e) => e.eventId)),
    bareArray(chunk.map((e) => e.userId)),
    bareArray(chunk.map((e) => e.sessionId)),
    quotedArray(chunk.map((e) => e.skill)),
    bareArray(chunk.map((e) => isoTime(e.occurredAtMs))),
    bareArray(chunk.map((e) => String(e.score))),
    quotedArray(chunk.map((e) => e.metrics)),
    // In hours: an interval of days is counted in the session's time zone, 23 or 25 hours across a DST change.
    `${CONFLICT_WINDOW_DAYS * 24} hours`,
  ];
}

async function exactPath(client: PoolClient, params: unknown[]): Promise<ChunkResult> {
  const result = await client.query<{ inserted: number; conflicts: EventConflict[] }>(INGEST_SQL, params);
  const { inserted, conflicts } = onlyRow(result, "the ingest statement");
  return {
    inserted,
    conflicts: conflicts.map((c) => ({ ...c, occurredAt: isoTimeOf(c.occurredAt), storedOccurredAt: isoTimeOf(c.storedOccurredAt) })),
  };
}

/** A chunk's fast path, prepared before it is written. */
interface FastPath {
  readonly chunk: readonly NormalizedEvent[];
  /** FOLD_DELTAS_SQL's parameters: the chunk's aggregates, folded by foldChunk. */
  readonly deltas: unknown[];
  /** The batch's probe found none of its events stored: the chunk's first attempt skips its own probe. */
  knownNew: boolean;
}

/**
 * A COPY that met a stored event: the exact path takes the chunk over. It carries the SQLSTATE, so
 * inTransaction rolls back and keeps the connection (an error without one marks it broken).
 */
class FastPathRefused extends Error {
  constructor(readonly code: string) {
    super("the COPY met an event another writer stored first");
  }
}

/** The chunk's fast path, or none for a chunk with a score of more than two decimals (PostgreSQL rounds those as it stores them; the fold would count them as sent). */
function prepareFastPath(chunk: readonly NormalizedEvent[]): FastPath | undefined {
  if (!chunk.every((e) => Math.round(e.score * 100) / 100 === e.score)) return undefined;
  return { chunk, deltas: foldChunk(chunk), knownNew: false };
}

/** Events per block of COPY text: about 180 KiB, a millisecond or two of work between turns of the event loop. */
const COPY_BLOCK_EVENTS = 1000;

/**
 * The chunk as COPY text-format rows, a block at a time: each is written while the server reads the
 * one before, and the event loop gets a turn between blocks.
 */
async function* copyRows(chunk: readonly NormalizedEvent[]): AsyncGenerator<string> {
  for (let start = 0; start < chunk.length; start += COPY_BLOCK_EVENTS) {
    if (start > 0) await new Promise((resolve) => setImmediate(resolve));
    let text = "";
    for (let i = start; i < Math.min(chunk.length, start + COPY_BLOCK_EVENTS); i++) {
      const e = chunk[i]!;
      text += `${e.eventId}\t${e.userId}\t${e.sessionId}\t${copyField(e.skill)}\t${isoTime(e.occurredAtMs)}\t${e.score}\t${e.metrics === null ? "\\N" : copyField(e.metrics)}\n`;
    }
    yield text;
  }
}

/** ANY_STORED_SQL's parameters for these ids, sent between these times. */
function probeParams(eventIds: readonly string[], earliestMs: number, latestMs: number): unknown[] {
  const window = CONFLICT_WINDOW_DAYS * 86_400_000;
  // Unsorted: PostgreSQL sorts and deduplicates the array of a btree ScalarArrayOp scan itself.
  return [bareArray(eventIds), new Date(earliestMs - window).toISOString(), new Date(latestMs + window).toISOString()];
}

/** The chunk's probe: is one of its events (or one with its id near its time) stored already? */
async function storedAmong(client: PoolClient, chunk: readonly NormalizedEvent[]): Promise<boolean> {
  let earliest = Infinity;
  let latest = -Infinity;
  for (const e of chunk) {
    earliest = Math.min(earliest, e.occurredAtMs);
    latest = Math.max(latest, e.occurredAtMs);
  }
  const ids = chunk.map((e) => e.eventId);
  return onlyRow(await client.query<{ found: boolean }>(ANY_STORED_SQL, probeParams(ids, earliest, latest)), "the probe").found;
}

/** The batch's probe, in flight: what it asked about, by each event's position in the batch, and its answer to come. */
interface BatchProbe {
  /** The eventId read for the probe (undefined: left out, as validation will refuse the event). */
  readonly eventIds: readonly (string | undefined)[];
  /** The occurredAt read for the probe, in epoch milliseconds. */
  readonly times: readonly number[];
  /** false: none of them stored; true: one may be; undefined: no answer (the query failed). */
  readonly answer: Promise<boolean | undefined>;
}

/**
 * Sends the batch's probe before the batch is validated, to be answered while it is; undefined when
 * there is nothing to ask (not an array, too large, or no event with a UUID and an accepted time).
 * An event validation will refuse is left out (it refuses the whole batch anyway); for one it will
 * accept, Date.parse reads the time validation accepts. Read in slices of 1,000 like validation, the
 * event loop getting a turn between them. The probe writes nothing: asked for an invalid batch, it
 * costs a read.
 */
async function sendBatchProbe(pool: Pool, events: readonly SessionEvent[], options: ValidationOptions): Promise<BatchProbe | undefined> {
  if (!Array.isArray(events) || events.length > MAX_BATCH_EVENTS) return undefined;
  const { earliestMs, latestMs } = acceptedTimes(options);
  const eventIds: (string | undefined)[] = [];
  const times: number[] = [];
  const probed: string[] = [];
  let earliest = Infinity;
  let latest = -Infinity;
  for (let index = 0; index < events.length; index++) {
    if (index > 0 && index % 1000 === 0) await new Promise((resolve) => setImmediate(resolve));
    const event: unknown = events[index];
    const { eventId, occurredAt } = typeof event === "object" && event !== null ? (event as SessionEvent) : ({} as Partial<SessionEvent>);
    const ms = occurredAt instanceof Date ? occurredAt.getTime() : typeof occurredAt === "string" ? Date.parse(occurredAt) : NaN;
    if (!isUuid(eventId) || !(ms >= earliestMs && ms <= latestMs)) {
      eventIds.push(undefined);
      times.push(NaN);
      continue;
    }
    eventIds.push(eventId);
    times.push(ms);
    probed.push(eventId);
    earliest = Math.min(earliest, ms);
    latest = Math.max(latest, ms);
  }
  if (probed.length === 0) return undefined;
  const answer = pool
    .query<{ found: boolean }>(ANY_STORED_SQL, probeParams(probed, earliest, latest))
    .then((result) => onlyRow(result, "the probe").found)
    .catch(() => undefined); // each chunk probes for itself
  return { eventIds, times, answer };
}

/** Whether the batch's probe asked about `event` as validation read it: not if the caller changed the batch in between. */
function probedAsValidated(probe: BatchProbe, event: NormalizedEvent): boolean {
  const eventId = probe.eventIds[event.index];
  return (
    eventId !== undefined && probe.times[event.index] === event.occurredAtMs && (eventId === event.eventId || eventId.toLowerCase() === event.eventId)
  );
}

/**
 * The fast path, in the caller's transaction: false when an event of the chunk (or one with its id near
 * its time) is stored already, asked here unless `knownNew` (the batch's probe found none); otherwise
 * the chunk is copied in and its aggregates folded, and true.
 * A COPY that meets an event another writer stored after the probe throws FastPathRefused.
 */
async function tryFastPath(client: PoolClient, fast: FastPath, knownNew: boolean): Promise<boolean> {
  if (!knownNew && (await storedAmong(client, fast.chunk))) return false;
  try {
    await pipeline(Readable.from(copyRows(fast.chunk)), client.query(copyFrom(COPY_SQL)));
  } catch (error) {
    // The primary key refused an event: a successful COPY proves every event of the chunk was new.
    if ((error as { code?: string }).code === UNIQUE_VIOLATION) throw new FastPathRefused(UNIQUE_VIOLATION);
    throw error;
  }
  // Prepared once per connection: its plan (unnest, sort, upsert by primary key) depends on no table's size.
  await client.query({ name: "pulse_analytics_ingest_fold", text: FOLD_DELTAS_SQL, values: fast.deltas });
  return true;
}

/**
 * The chunk (sorted by user, skill) folded into one aggregate delta per (user, skill), as FOLD_DELTAS_SQL's
 * nine arrays. Sums are kept in integer hundredths (scores have two decimals), so they equal PostgreSQL's
 * numeric sums exactly; the latest score is that of the greatest (occurred_at, event_id), as in SQL.
 */
function foldChunk(chunk: readonly NormalizedEvent[]): unknown[] {
  const columns: string[][] = Array.from({ length: 9 }, () => []);
  let i = 0;
  while (i < chunk.length) {
    const first = chunk[i]!;
    let count = 0;
    let sum = 0;
    let sumOfSquares = 0;
    let earliest = Infinity;
    let latest = first;
    for (; i < chunk.length && chunk[i]!.userId === first.userId && chunk[i]!.skill === first.skill; i++) {
      const e = chunk[i]!;
      const hundredths = Math.round(e.score * 100);
      count++;
      sum += hundredths;
      sumOfSquares += hundredths * hundredths;
      earliest = Math.min(earliest, e.occurredAtMs);
      if (e.occurredAtMs > latest.occurredAtMs || (e.occurredAtMs === latest.occurredAtMs && e.eventId > latest.eventId)) latest = e;
    }
    const row = [
      first.userId,
      first.skill,
      String(count),
      decimal(sum, 2),
      decimal(sumOfSquares, 4),
      isoTime(earliest),
      isoTime(latest.occurredAtMs),
      latest.eventId,
      decimal(Math.round(latest.score * 100), 2),
    ];
    row.forEach((value, column) => columns[column]!.push(value));
  }
  return columns.map((column, index) => (index === 1 ? quotedArray(column) : bareArray(column)));
}

/** A non-negative integer count of 10^-places as exact decimal text: decimal(8755, 2) is "87.55". */
function decimal(units: number, places: number): string {
  const scale = 10 ** places;
  return `${Math.floor(units / scale)}.${String(units % scale).padStart(places, "0")}`;
}

const NEEDS_COPY_ESCAPE = /[\\\t\n\r]/;

/** Text for a COPY text-format field: backslash, tab, newline and carriage return escaped. */
function copyField(text: string): string {
  // Most fields need no escaping: testing first spares a new string per field.
  if (!NEEDS_COPY_ESCAPE.test(text)) return text;
  return text.replace(/[\\\t\n\r]/g, (c) => ({ "\\": "\\\\", "\t": "\\t", "\n": "\\n", "\r": "\\r" })[c]!);
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

/**
 * A PostgreSQL array literal of elements that need no quoting: UUIDs, ISO 8601 times and numbers as
 * validation leaves them (no space, comma, brace, quote or backslash, never empty or "NULL").
 */
function bareArray(elements: readonly string[]): string {
  return `{${elements.join(",")}}`;
}

/** A PostgreSQL array literal of any text (null: SQL NULL): each element double-quoted, `"` and `\` escaped. */
function quotedArray(elements: readonly (string | null)[]): string {
  return `{${elements.map((e) => (e === null ? "NULL" : `"${e.replace(/["\\]/g, "\\$&")}"`)).join(",")}}`;
}

/** json_build_object writes a timestamptz in the session's zone ("…+00:00"): the same instant as ISO 8601 UTC. */
function isoTimeOf(text: string): string {
  return new Date(text).toISOString();
}
