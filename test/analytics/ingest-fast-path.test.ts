// recordSessionEvents' fast path on real PostgreSQL: a chunk of new events goes in by COPY with its
// aggregates folded on the client, and whatever the COPY cannot prove new (a stored event, a concurrent
// writer's copy of it, a score PostgreSQL would round) goes the exact path; every case stays exact.
// Which statement wrote a chunk is read from a statement trigger the test installs as the superuser;
// how often the database was asked whether events are stored, from the statements the pool's clients send.

import { AddressInfo, createServer, Socket } from "node:net";
import { Client, Pool } from "pg";
import { InvalidEventsError, rebuildAggregates, recordSessionEvents, SessionEvent } from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { useLocalDatabase, withClient } from "../support/local-database";
import { generateEvents } from "../../bench/workload";

let pool: Pool;
// Declared first, so it runs before the database stops (after-all hooks run in declaration order).
afterAll(() => pool?.end());
const local = useLocalDatabase();
const superuser = () => local.db.config("postgres", local.db.credentials().superuser);

beforeAll(async () => {
  pool = createPool({ connectionString: local.db.appUrl, pool: { max: 8 }, onIdleConnectionLost: () => undefined });
  await withClient(superuser(), (client) =>
    client.query(`
      -- Each insert statement into session_events, by its first word: COPY (the fast path) or WITH (the exact path).
      CREATE TABLE public.insert_statements (id bigserial PRIMARY KEY, kind text NOT NULL);
      CREATE FUNCTION public.log_insert_statement() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        INSERT INTO public.insert_statements (kind) VALUES (upper(substring(ltrim(current_query(), E' \\n') from '^[A-Za-z]+')));
        RETURN NULL;
      END $$;
      CREATE TRIGGER log_insert_statement AFTER INSERT ON analytics.session_events
        FOR EACH STATEMENT EXECUTE FUNCTION public.log_insert_statement();
      -- A fault: the session that inserts the event named in public.fault ends itself there, once
      -- (a sequence is not rolled back with the transaction the fault aborts).
      CREATE TABLE public.fault (event_id uuid PRIMARY KEY);
      CREATE SEQUENCE public.faults_fired;
      CREATE FUNCTION public.end_session_at_fault() RETURNS trigger LANGUAGE plpgsql SECURITY DEFINER AS $$
      BEGIN
        IF EXISTS (SELECT FROM public.fault WHERE event_id = NEW.event_id) AND nextval('public.faults_fired') = 1 THEN
          PERFORM pg_terminate_backend(pg_backend_pid());
        END IF;
        RETURN NULL;
      END $$;
      CREATE TRIGGER end_session_at_fault AFTER INSERT ON analytics.session_events
        FOR EACH ROW EXECUTE FUNCTION public.end_session_at_fault();
    `),
  );
}, 60_000);

beforeEach(() =>
  withClient(superuser(), (client) =>
    client.query(`TRUNCATE analytics.session_events, analytics.user_skill_agg, public.insert_statements, public.fault;
                  SELECT setval('public.faults_fired', 1, false)`),
  ),
);

const now = new Date();
const monthStart = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1));
const EVENTS = [...generateEvents({ seed: 11, learners: 30, skills: 6, events: 3000, from: monthStart, to: now })];

/** The first word of each insert statement, in order. */
const statements = () =>
  withClient(superuser(), async (client) =>
    (await client.query("SELECT kind FROM public.insert_statements ORDER BY id")).rows.map((r) => r.kind as string),
  );

const aggregates = () =>
  withClient(superuser(), async (client) => {
    const rows = await client.query(
      "SELECT user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score FROM analytics.user_skill_agg ORDER BY user_id, skill",
    );
    return JSON.stringify(rows.rows);
  });

/** The aggregates as recorded, and as rebuilt from the stored events. */
async function recordedAndRebuilt(): Promise<[string, string]> {
  const recorded = await aggregates();
  await rebuildAggregates(pool);
  return [recorded, await aggregates()];
}

/** `work`'s result, and how many probes (SELECT EXISTS … session_events) it sent. */
async function countingProbes<T>(work: () => Promise<T>): Promise<[T, number]> {
  const sent = jest.spyOn(Client.prototype, "query");
  try {
    const result = await work();
    const probes = sent.mock.calls.filter(([query]) => typeof query === "string" && /SELECT EXISTS[\s\S]*session_events/.test(query));
    return [result, probes.length];
  } finally {
    sent.mockRestore();
  }
}

const eventCount = () =>
  withClient(superuser(), async (client) => Number((await client.query("SELECT count(*) AS n FROM analytics.session_events")).rows[0].n));

describe("the fast path", () => {
  it("copies chunks of new events after one probe of the whole batch, and folds aggregates equal to a rebuild from the stored events", async () => {
    const [result, probes] = await countingProbes(() => recordSessionEvents(pool, EVENTS, { chunkSize: 500, concurrency: 2 }));
    expect(result).toEqual({ inserted: EVENTS.length, duplicates: 0, conflicts: [] });
    expect(probes).toBe(1); // the batch's, while it was validated: no chunk asked again
    expect(await statements()).toEqual(Array(6).fill("COPY"));
    const [recorded, rebuilt] = await recordedAndRebuilt();
    expect(recorded).toBe(rebuilt);
  });

  it("shares a batch among its connections by default: chunks of 2,500 to 10,000 events, one per connection while they last", async () => {
    const many = [...generateEvents({ seed: 12, learners: 200, skills: 6, events: 25_000, from: monthStart, to: now })];
    const copiesOf = async (batch: SessionEvent[]) => {
      await withClient(superuser(), (client) =>
        client.query("TRUNCATE analytics.session_events, analytics.user_skill_agg, public.insert_statements"),
      );
      expect((await recordSessionEvents(pool, batch)).inserted).toBe(batch.length);
      return (await statements()).length;
    };
    expect(await copiesOf(many.slice(0, 2_000))).toBe(1); // too small to share
    expect(await copiesOf(many.slice(0, 3_000))).toBe(2); // 2,500 and 500
    expect(await copiesOf(many.slice(0, 12_000))).toBe(2); // 6,000 each
    expect(await copiesOf(many)).toBe(3); // 10,000, 10,000 and 5,000
  }, 60_000);

  it("takes the exact path for the one chunk holding an already-stored event, and COPY for the others", async () => {
    const batch = EVENTS.slice(0, 1500);
    // Chunks follow the batch sorted by user, skill and event id: the stored event is in the second of three.
    const sorted = [...batch].sort((a, b) => (a.userId + a.skill + a.eventId < b.userId + b.skill + b.eventId ? -1 : 1));
    const stored = sorted[700];
    await recordSessionEvents(pool, [stored]);
    await withClient(superuser(), (client) => client.query("TRUNCATE public.insert_statements"));
    const [result, probes] = await countingProbes(() => recordSessionEvents(pool, batch, { chunkSize: 500, concurrency: 1 }));
    expect(result).toEqual({ inserted: 1499, duplicates: 1, conflicts: [] });
    expect(probes).toBe(4); // the batch's found the stored event; then each chunk's, to find which
    expect(await statements()).toEqual(["COPY", "WITH", "COPY"]);
    expect(await eventCount()).toBe(1500);
    const [recorded, rebuilt] = await recordedAndRebuilt();
    expect(recorded).toBe(rebuilt);
  });

  it("stores each event once when two writers race with the same new events, the loser of each chunk's race taking the exact path", async () => {
    for (let round = 0; round < 3; round++) {
      await withClient(superuser(), (client) => client.query("TRUNCATE analytics.session_events, analytics.user_skill_agg"));
      const [first, second] = await Promise.all([
        recordSessionEvents(pool, EVENTS, { chunkSize: 300, concurrency: 2 }),
        recordSessionEvents(pool, EVENTS, { chunkSize: 300, concurrency: 2 }),
      ]);
      expect(first.inserted + second.inserted).toBe(EVENTS.length);
      expect(first.duplicates + second.duplicates).toBe(EVENTS.length);
      expect(await eventCount()).toBe(EVENTS.length);
      const [recorded, rebuilt] = await recordedAndRebuilt();
      expect(recorded).toBe(rebuilt);
    }
  }, 120_000);

  // The COPY is sent in blocks of 1,000 events: the refused event is in its only block, or in its third.
  it.each([
    { events: 400, takenAt: 123 },
    { events: 2500, takenAt: 2200 },
  ])(
    "rolls back a COPY that meets an event another writer commits meanwhile (23505), and writes the chunk by the exact path (a chunk of $events, the event at $takenAt taken)",
    async ({ events, takenAt }) => {
      const batch = EVENTS.slice(0, events);
      // The chunk's order: by user, skill and event id.
      const taken = [...batch].sort((a, b) => (a.userId + a.skill + a.eventId < b.userId + b.skill + b.eventId ? -1 : 1))[takenAt];
      const other = new Client(superuser());
      await other.connect();
      try {
        // Another writer holds the event uncommitted: the probe cannot see it, the COPY waits for it.
        await other.query("BEGIN");
        await other.query(
          "INSERT INTO analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score, metrics) VALUES ($1, $2, $3, $4, $5, $6, $7)",
          [
            taken.eventId,
            taken.userId,
            taken.sessionId,
            taken.skill,
            taken.occurredAt,
            taken.score,
            taken.metrics ? JSON.stringify(taken.metrics) : null,
          ],
        );
        const recording = recordSessionEvents(pool, batch, { chunkSize: events });
        // Read outside the other writer's transaction: pg_stat_activity holds still within one.
        const waiting = () =>
          withClient(superuser(), async (client) =>
            Number(
              (await client.query("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'pulse_analytics_app_a' AND wait_event_type = 'Lock'"))
                .rows[0].n,
            ),
          );
        while ((await waiting()) === 0) await new Promise((resolve) => setTimeout(resolve, 20));
        await other.query("COMMIT");
        expect(await recording).toEqual({ inserted: events - 1, duplicates: 1, conflicts: [] });
      } finally {
        await other.end();
      }
      expect(await statements()).toEqual(["INSERT", "WITH"]);
      expect(await eventCount()).toBe(events);
      // The aggregates count the event the other writer stored without folding it: rebuild and compare the rest.
      const recorded = JSON.parse(await aggregates()) as Array<{ user_id: string; skill: string; event_count: string }>;
      const own = recorded.find((r) => r.user_id === taken.userId && r.skill === taken.skill)!;
      const sameKey = batch.filter((e) => e.userId === taken.userId && e.skill === taken.skill).length;
      expect(Number(own.event_count)).toBe(sameKey - 1);
    },
    60_000,
  );

  it("leaves nothing of a COPY whose session ends halfway, and the retry stores every event once", async () => {
    const batch = EVENTS.slice(0, 1000);
    const sorted = [...batch].sort((a, b) => (a.userId + a.skill + a.eventId < b.userId + b.skill + b.eventId ? -1 : 1));
    await withClient(superuser(), (client) => client.query("INSERT INTO public.fault VALUES ($1)", [sorted[500].eventId]));
    const [result, probes] = await countingProbes(() => recordSessionEvents(pool, batch, { chunkSize: 1000 }));
    expect(result).toEqual({ inserted: 1000, duplicates: 0, conflicts: [] });
    expect(probes).toBe(2); // the batch's; then the chunk's own before its second COPY (the batch's answer is older than the fault)
    const fired = await withClient(
      superuser(),
      async (client) => (await client.query("SELECT last_value, is_called FROM public.faults_fired")).rows[0],
    );
    // The faulty row was reached twice: the first COPY ended there (1), the retry's COPY went past it (2).
    expect(fired).toEqual({ last_value: "2", is_called: true });
    expect(await statements()).toEqual(["COPY"]);
    expect(await eventCount()).toBe(1000);
    const [recorded, rebuilt] = await recordedAndRebuilt();
    expect(recorded).toBe(rebuilt);
  }, 60_000);

  it("refuses an invalid batch without waiting for the answer to its probe, sent before validation", async () => {
    // A server that accepts connections and never answers, and a pool that waits for ever: a call
    // that waited for the probe's answer would never return.
    const connections: Socket[] = [];
    const silent = createServer((socket) => connections.push(socket));
    await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
    const { port } = silent.address() as AddressInfo;
    const unanswered = createPool({
      connectionString: `postgres://nobody:nothing@127.0.0.1:${port}/none`,
      pool: { max: 1, connectionTimeoutMillis: 0 },
    });
    try {
      const batch: SessionEvent[] = [EVENTS[0], { ...EVENTS[1], score: 101 }];
      const refusal = await recordSessionEvents(unanswered, batch).catch((error: unknown) => error);
      expect(refusal).toBeInstanceOf(InvalidEventsError);
      expect((refusal as InvalidEventsError).problems).toEqual([{ index: 1, reason: "score 101 is not a finite number from 0 to 100" }]);
      // The probe had been sent: its connection reaches the server.
      while (connections.length === 0) await new Promise((resolve) => setTimeout(resolve, 10));
    } finally {
      for (const socket of connections) socket.destroy();
      await unanswered.end();
      await new Promise((resolve) => silent.close(resolve));
    }
  }, 30_000);

  it("probes again when a chunk is written again after a lost connection: an event stored meanwhile under another time is a conflict", async () => {
    const batch = EVENTS.slice(0, 300);
    const target = batch[42];
    const storedTime = new Date(new Date(target.occurredAt).getTime() - 60_000).toISOString();
    // The chunk's first connection is refused (a failover), after the batch's probe found nothing and
    // after another writer stored the target's id a minute earlier; the retry must not trust that probe.
    const connect = pool.connect.bind(pool) as (...args: unknown[]) => unknown;
    let refused = false;
    const connectSpy = jest.spyOn(pool, "connect").mockImplementation((async (...args: unknown[]) => {
      // The probe takes its connection with a callback; a chunk's transaction, as a promise.
      if (args.length > 0 || refused) return connect(...args);
      refused = true;
      await withClient(superuser(), (client) =>
        client.query(
          "INSERT INTO analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score) VALUES ($1, $2, $3, $4, $5, $6)",
          [target.eventId, target.userId, target.sessionId, target.skill, storedTime, target.score],
        ),
      );
      throw Object.assign(new Error("read ECONNRESET"), { code: "ECONNRESET" });
    }) as never);
    try {
      const [result, probes] = await countingProbes(() => recordSessionEvents(pool, batch));
      expect(refused).toBe(true);
      expect(result).toEqual({
        inserted: 299,
        duplicates: 0,
        conflicts: [
          { eventId: target.eventId, occurredAt: new Date(target.occurredAt).toISOString(), storedOccurredAt: storedTime, reason: "other-time" },
        ],
      });
      expect(probes).toBe(2); // the batch's, then the chunk's own on its second attempt
    } finally {
      connectSpy.mockRestore();
    }
    expect(await statements()).toEqual(["INSERT", "WITH"]);
  }, 60_000);

  it("trusts the batch's probe only for the events it read: one the caller replaces during the call is probed with its chunk", async () => {
    const stored = EVENTS[2000];
    await recordSessionEvents(pool, [stored]);
    const batch = EVENTS.slice(0, 300);
    const recording = recordSessionEvents(pool, batch);
    // The probe has read the batch (a batch of up to 1,000 in one go); validation has not begun.
    const restamped: SessionEvent = { ...stored, occurredAt: new Date(new Date(stored.occurredAt).getTime() - 60_000) };
    batch[5] = restamped;
    expect(await recording).toEqual({
      inserted: 299,
      duplicates: 0,
      conflicts: [
        {
          eventId: stored.eventId,
          occurredAt: new Date(restamped.occurredAt).toISOString(),
          storedOccurredAt: new Date(stored.occurredAt).toISOString(),
          reason: "other-time",
        },
      ],
    });
    expect(await eventCount()).toBe(300); // the stored event, and the batch but for the one replaced
  });

  it("leaves scores with a third decimal to the exact path, where PostgreSQL rounds them as it stores them", async () => {
    const batch: SessionEvent[] = EVENTS.slice(0, 200).map((e, i) => (i === 17 ? { ...e, score: 41.555 } : e));
    expect(await recordSessionEvents(pool, batch, { chunkSize: 200 })).toEqual({ inserted: 200, duplicates: 0, conflicts: [] });
    expect(await statements()).toEqual(["WITH"]);
    const [recorded, rebuilt] = await recordedAndRebuilt();
    expect(recorded).toBe(rebuilt);
  });
});
