// recordSessionEvents on real PostgreSQL, as the backend (app role) uses it: retries change nothing,
// arrival order does not matter, concurrent writers stay exact, bad batches write nothing.

import { Pool } from "pg";
import {
  CONFLICT_WINDOW_DAYS,
  InvalidEventsError,
  PartlyStoredError,
  rebuildAggregates,
  recordSessionEvents,
  SessionEvent,
} from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { useLocalDatabase, withClient } from "../support/local-database";
import { generateEvents, randomBatches, seededRandom, seededUuid, shuffled } from "../../bench/workload";

let pool: Pool;
// Declared first, so it runs before the database stops (after-all hooks run in declaration order).
afterAll(() => pool?.end());
const local = useLocalDatabase();
beforeAll(() => {
  pool = createPool({ connectionString: local.db.appUrl, pool: { max: 8 } });
});

beforeEach(() => withClient(local.db.migrationUrl, (client) => client.query("TRUNCATE analytics.session_events, analytics.user_skill_agg")));

const now = new Date();
const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
/** 2,000 events of 20 learners over 5 skills, from the start of last month until now. */
const EVENTS = [...generateEvents({ seed: 7, learners: 20, skills: 5, events: 2000, from: monthStart, to: now })];

/** Every aggregate row as text, in key order; `withUpdatedAt` for the byte-for-byte comparison. */
async function aggregates(withUpdatedAt = false): Promise<string> {
  return withClient(local.db.migrationUrl, async (client) => {
    const columns = `user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score${withUpdatedAt ? ", updated_at" : ""}`;
    const rows = (await client.query(`SELECT ${columns} FROM analytics.user_skill_agg ORDER BY user_id, skill`)).rows;
    return JSON.stringify(rows);
  });
}

const eventCount = () =>
  withClient(local.db.migrationUrl, async (client) => Number((await client.query("SELECT count(*) FROM analytics.session_events")).rows[0].count));

async function rebuilt(): Promise<string> {
  await rebuildAggregates(pool);
  return aggregates();
}

describe("a retried batch", () => {
  it("inserts 0 rows and leaves the aggregates byte-for-byte identical", async () => {
    const batch = EVENTS.slice(0, 500);
    expect(await recordSessionEvents(pool, batch)).toEqual({ inserted: 500, duplicates: 0, conflicts: [] });
    const before = await aggregates(true);
    expect(await recordSessionEvents(pool, batch)).toEqual({ inserted: 0, duplicates: 500, conflicts: [] });
    expect(await aggregates(true)).toBe(before);
    expect(await eventCount()).toBe(500);
  });

  it("counts an event it contains twice once", async () => {
    const event = EVENTS[0];
    expect(await recordSessionEvents(pool, [event, { ...event }])).toEqual({ inserted: 1, duplicates: 1, conflicts: [] });
    const rows = await withClient(local.db.migrationUrl, async (c) => (await c.query("SELECT event_count FROM analytics.user_skill_agg")).rows);
    expect(rows).toEqual([{ event_count: "1" }]);
  });
});

describe("an event id already stored for another event", () => {
  const DAY = 24 * 60 * 60 * 1000;
  const original = EVENTS[0];
  const originalTime = new Date(original.occurredAt).toISOString();

  it("refuses an event re-sent with another occurredAt, reports it as a conflict, and counts it nowhere", async () => {
    await recordSessionEvents(pool, [original]);
    const before = await aggregates(true);
    const restamped = { ...original, occurredAt: new Date(Date.parse(originalTime) + 3 * DAY).toISOString() };
    const result = await recordSessionEvents(pool, [restamped, EVENTS[1]]);
    expect(result).toEqual({
      inserted: 1,
      duplicates: 0,
      conflicts: [{ eventId: original.eventId, occurredAt: restamped.occurredAt, storedOccurredAt: originalTime, reason: "other-time" }],
    });
    expect(await eventCount()).toBe(2);
    // Only EVENTS[1] was folded in: the aggregates equal a rebuild from the two stored events.
    expect(await aggregates()).not.toBe(before);
    const incremental = await aggregates();
    expect(await rebuilt()).toBe(incremental);
  });

  it("reports the same id and time sent for another learner as a conflict, keeping the stored event", async () => {
    await recordSessionEvents(pool, [original]);
    const before = await aggregates(true);
    const otherLearner = { ...original, userId: EVENTS.find((e) => e.userId !== original.userId)!.userId };
    expect(await recordSessionEvents(pool, [otherLearner])).toEqual({
      inserted: 0,
      duplicates: 0,
      conflicts: [{ eventId: original.eventId, occurredAt: originalTime, storedOccurredAt: originalTime, reason: "other-content" }],
    });
    expect(await aggregates(true)).toBe(before);
    const stored = await withClient(local.db.migrationUrl, async (c) => (await c.query("SELECT user_id FROM analytics.session_events")).rows);
    expect(stored).toEqual([{ user_id: original.userId }]);
  });

  it("treats a score re-sent with a third decimal that rounds to the stored one as the same event", async () => {
    const event = { ...original, score: 41.5 };
    await recordSessionEvents(pool, [event]);
    expect(await recordSessionEvents(pool, [{ ...event, score: 41.501 }])).toEqual({ inserted: 0, duplicates: 1, conflicts: [] });
  });

  it(`counts the ${CONFLICT_WINDOW_DAYS} days in hours, whatever the session's time zone: across a DST change too`, async () => {
    // Europe/Berlin moves to summer time on 2026-03-29: 35 calendar days from 2026-02-25 13:00 CET end
    // after 839 hours, so a window of days in that zone would miss a re-stamp 839.5 hours later.
    const berlin = createPool({ connectionString: local.db.appUrl, pool: { max: 1, options: "-c TimeZone=Europe/Berlin" } });
    try {
      const stored = { ...original, occurredAt: "2026-02-25T12:00:00.000Z" };
      await recordSessionEvents(berlin, [stored]);
      const restamped = { ...original, occurredAt: new Date(Date.parse(stored.occurredAt) + 839.5 * 3_600_000).toISOString() };
      expect((await recordSessionEvents(berlin, [restamped], { now: new Date("2026-04-02T00:00:00Z") })).conflicts).toEqual([
        { eventId: original.eventId, occurredAt: restamped.occurredAt, storedOccurredAt: stored.occurredAt, reason: "other-time" },
      ]);
    } finally {
      await berlin.end();
    }
  });

  it(`looks ${CONFLICT_WINDOW_DAYS} days either side: an id re-sent further away is stored again (the key is event_id and occurred_at)`, async () => {
    await recordSessionEvents(pool, [original]);
    const far = { ...original, occurredAt: new Date(Date.parse(originalTime) - (CONFLICT_WINDOW_DAYS + 1) * DAY).toISOString() };
    expect(await recordSessionEvents(pool, [far])).toEqual({ inserted: 1, duplicates: 0, conflicts: [] });
  });
});

describe("a large batch, written in many chunks at once", () => {
  it("counts every event exactly, on first delivery and on a retry, with chunks written concurrently", async () => {
    expect(await recordSessionEvents(pool, EVENTS, { chunkSize: 97, concurrency: 3 })).toEqual({
      inserted: EVENTS.length,
      duplicates: 0,
      conflicts: [],
    });
    expect(await recordSessionEvents(pool, EVENTS, { chunkSize: 97, concurrency: 3 })).toEqual({
      inserted: 0,
      duplicates: EVENTS.length,
      conflicts: [],
    });
    const incremental = await aggregates();
    expect(await rebuilt()).toBe(incremental);
  });

  it("inserts only the new half of a chunk whose other half is stored already", async () => {
    const stored = EVENTS.filter((_, i) => i % 2 === 0);
    await recordSessionEvents(pool, stored);
    expect(await recordSessionEvents(pool, EVENTS, { chunkSize: 500 })).toEqual({
      inserted: EVENTS.length - stored.length,
      duplicates: stored.length,
      conflicts: [],
    });
    expect(await eventCount()).toBe(EVENTS.length);
    const incremental = await aggregates();
    expect(await rebuilt()).toBe(incremental);
  });
});

describe("arrival order", () => {
  it("does not change the aggregates: in order, shuffled, split into random batches, newest first; all equal a rebuild", async () => {
    const random = seededRandom(11);
    const byTime = [...EVENTS].sort((a, b) => new Date(a.occurredAt).getTime() - new Date(b.occurredAt).getTime());
    const deliveries: Array<[string, SessionEvent[][]]> = [
      ["one batch, in time order", [byTime]],
      ["shuffled, in random batches of up to 300", randomBatches(shuffled(EVENTS, random), 300, random)],
      ["newest first (every event late), batches of up to 50", randomBatches([...byTime].reverse(), 50, random)],
      ["each event alone, shuffled, half of them twice", shuffled([...EVENTS, ...EVENTS.filter((_, i) => i % 2 === 0)], random).map((e) => [e])],
    ];
    const results: string[] = [];
    for (const [, batches] of deliveries) {
      await withClient(local.db.migrationUrl, (client) => client.query("TRUNCATE analytics.session_events, analytics.user_skill_agg"));
      for (const batch of batches) await recordSessionEvents(pool, batch);
      results.push(await aggregates());
      expect(await eventCount()).toBe(EVENTS.length);
    }
    expect(new Set(results).size).toBe(1);
    expect(await rebuilt()).toBe(results[0]);
  }, 120_000);

  it("never lets a late event with an older occurred_at replace the latest score", async () => {
    const user = seededUuid(seededRandom(3));
    const event = (minutesAgo: number, score: number): SessionEvent => ({
      eventId: seededUuid(seededRandom(minutesAgo + 100)),
      userId: user,
      sessionId: user,
      skill: "fractions",
      occurredAt: new Date(now.getTime() - minutesAgo * 60_000),
      score,
    });
    await recordSessionEvents(pool, [event(10, 90)]);
    await recordSessionEvents(pool, [event(60, 20)]); // arrives later, happened earlier
    const row = await withClient(
      local.db.migrationUrl,
      async (c) => (await c.query("SELECT last_score, event_count FROM analytics.user_skill_agg WHERE user_id = $1", [user])).rows[0],
    );
    expect(row).toEqual({ last_score: "90.00", event_count: "2" });
  });
});

describe("4 concurrent writers with overlapping learners", () => {
  it("surface no error and leave exact counts and aggregates", async () => {
    const random = seededRandom(23);
    // Every event goes to one writer, a third of them to a second one as well (a retry racing the original).
    const writers: SessionEvent[][] = [[], [], [], []];
    EVENTS.forEach((event) => {
      const first = Math.floor(random() * 4);
      writers[first].push(event);
      if (random() < 0.33) writers[(first + 1 + Math.floor(random() * 3)) % 4].push(event);
    });
    const results = await Promise.all(
      writers.map(async (events) => {
        let inserted = 0;
        for (const batch of randomBatches(shuffled(events, random), 200, random)) inserted += (await recordSessionEvents(pool, batch)).inserted;
        return inserted;
      }),
    );
    expect(results.reduce((a, b) => a + b, 0)).toBe(EVENTS.length);
    expect(await eventCount()).toBe(EVENTS.length);
    const concurrent = await aggregates();
    expect(await rebuilt()).toBe(concurrent);
  }, 120_000);
});

describe("values PostgreSQL would refuse or change", () => {
  it("are refused by validation, so no batch is ever half-written for them", async () => {
    const attempt = recordSessionEvents(pool, [
      { ...EVENTS[0], skill: "alge\u0000bra" },
      { ...EVENTS[1], metrics: { nested: { ratio: Number.NaN } } },
      { ...EVENTS[2], metrics: { note: "a\u0000b" } },
      { ...EVENTS[3], occurredAt: "2026-11-20T10:00:00" },
    ]);
    const error = (await attempt.catch((e) => e)) as InvalidEventsError;
    expect(error.problems).toEqual([
      { index: 0, reason: "skill must be a string of 1 to 200 characters without NUL" },
      { index: 1, reason: "metrics.nested.ratio is not a finite number" },
      { index: 2, reason: "metrics.note contains NUL" },
      { index: 3, reason: 'occurredAt "2026-11-20T10:00:00" is not a timestamp with a time zone (ISO 8601, Z or ±hh:mm)' },
    ]);
    expect(await eventCount()).toBe(0);
  });
});

// Issue 10: an event is never refused for lack of a partition; ingest creates the month's partition
// itself (analytics.ensure_session_event_partitions, which the app role may run from migration 4 on).
describe("an event of a month without a partition", () => {
  const partitionsOf = (month: string) =>
    withClient(
      local.db.migrationUrl,
      async (client) => (await client.query("SELECT relname FROM pg_class WHERE relname = $1", [`session_events_${month}`])).rows.length,
    );
  const grantPartitions = (sql: "GRANT" | "REVOKE") =>
    withClient(local.db.migrationUrl, (client) =>
      client.query(
        `SET ROLE pulse_analytics_owner; ${sql} EXECUTE ON FUNCTION analytics.ensure_session_event_partitions(integer, date) ${sql === "GRANT" ? "TO" : "FROM"} pulse_analytics_app; RESET ROLE`,
      ),
    );
  const dropPartition = (month: string) =>
    withClient(local.db.migrationUrl, (client) =>
      client.query(`SET ROLE pulse_analytics_owner; DROP TABLE IF EXISTS analytics.session_events_${month}; RESET ROLE`),
    );

  it("creates the month's partition and stores the event, with the rest of the batch", async () => {
    await dropPartition("2021_06");
    const old = { ...EVENTS[0], occurredAt: new Date(Date.UTC(2021, 5, 15)) };
    const result = await recordSessionEvents(pool, [...EVENTS.slice(1, 400), old], { chunkSize: 10, concurrency: 2 });
    expect(result).toEqual({ inserted: 400, duplicates: 0, conflicts: [] });
    expect(await partitionsOf("2021_06")).toBe(1);
    expect(await aggregates()).toBe(await rebuilt());
  });

  it("creates it once when many writers bring the first events of a new month at the same time", async () => {
    await dropPartition("2021_03");
    const month = [
      ...generateEvents({
        seed: 11,
        learners: 30,
        skills: 4,
        events: 1200,
        from: new Date(Date.UTC(2021, 2, 1)),
        to: new Date(Date.UTC(2021, 2, 31)),
      }),
    ];
    const writers = Array.from({ length: 8 }, (_, i) => month.filter((_e, j) => j % 8 === i));
    const results = await Promise.all(writers.map((batch) => recordSessionEvents(pool, batch, { chunkSize: 50, concurrency: 2 })));
    expect(results.reduce((sum, r) => sum + r.inserted, 0)).toBe(month.length);
    expect(await partitionsOf("2021_03")).toBe(1);
    expect(await eventCount()).toBe(month.length);
    expect(await aggregates()).toBe(await rebuilt());
  });

  it("says how much of the batch was stored and which chunk failed, when a later chunk fails for good", async () => {
    await dropPartition("2021_08");
    await grantPartitions("REVOKE");
    try {
      // The last event, of a month without a partition, sorts last (greatest user id): earlier chunks are stored first.
      const late = { ...EVENTS[0], userId: "ffffffff-ffff-4fff-bfff-ffffffffffff", occurredAt: new Date(Date.UTC(2021, 7, 15)) };
      const batch = [...EVENTS.slice(1, 41), late];
      const failure = (await recordSessionEvents(pool, batch, { chunkSize: 10, concurrency: 1 }).catch((e) => e)) as PartlyStoredError;
      expect(failure).toBeInstanceOf(PartlyStoredError);
      expect({ stored: failure.stored, total: failure.total, failed: failure.failedEventIds.length }).toEqual({ stored: 40, total: 41, failed: 1 });
      expect(failure.failedEventIds).toEqual([late.eventId]);
      expect(failure.message).toMatch(
        /^40 of 41 events were stored before a chunk of 1 \(first event ffffffff-|^40 of 41 events were stored before a chunk of 1 \(first event [0-9a-f-]+\) failed: an event's occurred_at falls in a month without a session_events partition .+ Sending the batch again is safe/,
      );
      expect(await eventCount()).toBe(40);
    } finally {
      await grantPartitions("GRANT");
    }
    // Sent again once partitions can be made: the rest comes in, nothing twice.
    const again = await recordSessionEvents(
      pool,
      [...EVENTS.slice(1, 41), { ...EVENTS[0], userId: "ffffffff-ffff-4fff-bfff-ffffffffffff", occurredAt: new Date(Date.UTC(2021, 7, 15)) }],
      { chunkSize: 10 },
    );
    expect(again).toEqual({ inserted: 1, duplicates: 40, conflicts: [] });
  });

  it("says what to run, writing nothing of the chunk, when the role may not create partitions", async () => {
    await dropPartition("2021_07");
    const grant = grantPartitions;
    await grant("REVOKE");
    try {
      const old = { ...EVENTS[0], occurredAt: new Date(Date.UTC(2021, 6, 15)) };
      await expect(recordSessionEvents(pool, [EVENTS[1], old])).rejects.toThrow(
        /^an event's occurred_at falls in a month without a session_events partition \(Partition key of the failing row contains \(occurred_at\) = \(2021-07-15 .+\)\.\), and creating it failed; nothing of this chunk was written\. Run npm run db:migrate/,
      );
      expect(await eventCount()).toBe(0);
      expect(await partitionsOf("2021_07")).toBe(0);
    } finally {
      await grant("GRANT");
    }
  });
});

describe("an invalid batch", () => {
  it("is refused whole, each bad event named by its index and reason, and nothing of it is written", async () => {
    const good = EVENTS.slice(0, 10);
    const batch: SessionEvent[] = [
      ...good,
      { ...EVENTS[10], score: 101 },
      { ...EVENTS[11], eventId: "not-a-uuid" },
      { ...EVENTS[12], occurredAt: new Date(now.getTime() + 3 * 86_400_000) },
      { ...EVENTS[13], score: Number.NaN },
      { ...EVENTS[14], occurredAt: "yesterday-ish" },
      { ...EVENTS[0], score: 12 }, // the same event_id as #0, other content
    ];
    const attempt = recordSessionEvents(pool, batch);
    await expect(attempt).rejects.toThrow(InvalidEventsError);
    const error = (await attempt.catch((e) => e)) as InvalidEventsError;
    expect(error.problems.map((p) => p.index)).toEqual([10, 11, 12, 13, 14, 15]);
    expect(error.problems[0].reason).toBe("score 101 is not a finite number from 0 to 100");
    expect(error.problems[1].reason).toBe('eventId "not-a-uuid" is not a UUID');
    expect(error.problems[2].reason).toMatch(/^occurredAt .+ is more than 24 h in the future$/);
    expect(error.problems[4].reason).toBe('occurredAt "yesterday-ish" is not a timestamp with a time zone (ISO 8601, Z or ±hh:mm)');
    expect(error.problems[5].reason).toMatch(/^eventId .+ also names event #0 with other content$/);
    expect(error.message).toMatch(/^6 invalid event\(s\), nothing written: #10: score 101/);
    expect(await eventCount()).toBe(0);
    expect(await aggregates()).toBe("[]");
  });
});
