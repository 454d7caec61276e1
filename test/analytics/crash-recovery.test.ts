// The server killed with SIGKILL in the middle of a stream of batches, restarted, and every batch
// sent again: no event is lost, none is counted twice, and the aggregates equal a rebuild.

import { join } from "node:path";
import { readFileSync } from "node:fs";
import { rebuildAggregates, recordSessionEvents, SessionEvent } from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { aggregatesAsText, removeStateDir, RunningLocalDatabase, startLocalDatabase, withClient } from "../support/local-database";
import { generateEvents } from "../../bench/workload";

const now = new Date();
const EVENTS = [
  ...generateEvents({
    seed: 31,
    learners: 50,
    skills: 8,
    events: 12_000,
    from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)),
    to: now,
  }),
];
const BATCHES: SessionEvent[][] = Array.from({ length: 60 }, (_, i) => EVENTS.slice(i * 200, (i + 1) * 200));

let db: RunningLocalDatabase;
afterAll(async () => {
  await db?.stop();
  if (db) removeStateDir(db.stateDir);
});

it("loses and duplicates nothing when PostgreSQL is killed mid-stream and every batch is re-sent", async () => {
  db = await startLocalDatabase();
  const { stateDir, port } = db;
  const pool = createPool({ connectionString: db.appUrl, pool: { max: 2, connectionTimeoutMillis: 2000 } });
  pool.on("error", () => undefined); // idle connections die with the server; that is the point

  // Stream the batches one after another; once a third are in, kill the server while the next is in flight.
  let acknowledged = 0;
  let failed = 0;
  let killed = false;
  for (const batch of BATCHES) {
    // No automatic retry: this proves the caller's own re-send (test/client/failover.test.ts proves the retry).
    const writing = recordSessionEvents(pool, batch, { maxAttempts: 1, connectionRetry: { deadlineMs: 0 } });
    if (!killed && acknowledged === 20) {
      await new Promise((resolve) => setTimeout(resolve, 3));
      const postmaster = Number(readFileSync(join(stateDir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
      process.kill(postmaster, "SIGKILL");
      killed = true;
    }
    try {
      await writing;
      acknowledged++;
    } catch {
      failed++;
    }
  }
  await pool.end().catch(() => undefined);
  expect(killed).toBe(true);
  expect(acknowledged).toBeGreaterThanOrEqual(20);
  expect(acknowledged + failed).toBe(BATCHES.length);
  expect((await db.exited()).code).toBe(1);

  // Restart on the same data (crash recovery replays the WAL), and re-send everything.
  db = await startLocalDatabase({ stateDir, port });
  const again = createPool({ connectionString: db.appUrl, pool: { max: 2 } });
  try {
    const survived = await withClient(db.migrationUrl, async (c) =>
      Number((await c.query("SELECT count(*) FROM analytics.session_events")).rows[0].count),
    );
    // Every acknowledged batch survived the crash (the batch in flight may or may not have committed).
    expect(survived).toBeGreaterThanOrEqual(acknowledged * 200);
    let inserted = 0;
    let duplicates = 0;
    for (const batch of BATCHES) {
      const result = await recordSessionEvents(again, batch);
      inserted += result.inserted;
      duplicates += result.duplicates;
    }
    // What survived the crash is recognised; the rest comes in now, once.
    expect({ inserted, duplicates }).toEqual({ inserted: EVENTS.length - survived, duplicates: survived });
    const stored = await withClient(
      db.migrationUrl,
      async (c) =>
        (await c.query("SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_events FROM analytics.session_events")).rows[0],
    );
    expect(stored).toEqual({ n: EVENTS.length, distinct_events: EVENTS.length });

    const snapshot = () => aggregatesAsText(db.migrationUrl);
    const incremental = await snapshot();
    const totals = await withClient(
      db.migrationUrl,
      async (c) => (await c.query("SELECT sum(event_count)::int AS n FROM analytics.user_skill_agg")).rows[0].n,
    );
    expect(totals).toBe(EVENTS.length);
    await rebuildAggregates(again);
    expect(await snapshot()).toBe(incremental);
  } finally {
    await again.end();
  }
}, 300_000);
