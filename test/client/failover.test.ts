// The backend through the database's normal life, on a real local PostgreSQL: a fast shutdown
// (`pg_ctl -m fast`, what a Multi-AZ failover, a reboot, a resize or a minor upgrade does to every
// connection: 57P01) and a start again on the same data. The pool keeps the process up, the query in
// flight and the connections tried meanwhile fail with the errors the README names, idempotent work
// wrapped in withConnectionRetry completes once the server is back, and ingest stores every event once,
// also when the server is killed outright (SIGKILL) and when the client process is.

import { spawn } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { Pool } from "pg";
import { rebuildAggregates, recordSessionEvents, SessionEvent } from "../../src/analytics";
import { createPool } from "../../src/client/pool";
import { isTransientConnectionError, withConnectionRetry } from "../../src/client/retry";
import { aggregatesAsText, removeStateDir, ROOT, RunningLocalDatabase, startLocalDatabase, withClient } from "../support/local-database";
import { generateEvents } from "../../bench/workload";

let db: RunningLocalDatabase;
beforeAll(async () => {
  db = await startLocalDatabase();
}, 180_000);
afterAll(async () => {
  await db?.stop();
  if (db) removeStateDir(db.stateDir);
}, 60_000);

/** `pg_ctl -m fast`: SIGINT to the postmaster; every backend ends with 57P01. */
function fastShutdown(database: RunningLocalDatabase): void {
  const postmaster = Number(readFileSync(join(database.stateDir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
  process.kill(postmaster, "SIGINT");
}

/** How many events are stored. */
const eventCount = () =>
  withClient(db.migrationUrl, async (c) => Number((await c.query("SELECT count(*) FROM analytics.session_events")).rows[0].count));

/** Rows and distinct event ids stored: equal when no event is stored twice. */
const storedEvents = () =>
  withClient(
    db.migrationUrl,
    async (c) => (await c.query("SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct_events FROM analytics.session_events")).rows[0],
  );

/** The aggregates as ingest folded them, then as a rebuild from the stored events computes them. */
async function aggregatesAndRebuild(pool: Pool): Promise<[string, string]> {
  const snapshot = () => aggregatesAsText(db.migrationUrl);
  const incremental = await snapshot();
  await rebuildAggregates(pool);
  return [incremental, await snapshot()];
}

const now = new Date();
const EVENTS: SessionEvent[] = [
  ...generateEvents({
    seed: 47,
    learners: 40,
    skills: 6,
    events: 8_000,
    from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)),
    to: now,
  }),
];

it("keeps the process up through a fast shutdown and a restart, and runs idempotent work again once the server is back", async () => {
  const { stateDir, port } = db;
  const password = new URL(db.appUrl).password;
  const lost: string[] = [];
  const pool = createPool({ connectionString: db.appUrl, pool: { max: 4 }, onIdleConnectionLost: (line) => lost.push(line) });
  try {
    // Three idle connections and one busy with a long query.
    await Promise.all([1, 2, 3].map(() => pool.query("SELECT 1")));
    const busy = pool.query("SELECT pg_sleep(60)").then(
      () => undefined,
      (error: Error) => error,
    );
    await new Promise((resolve) => setTimeout(resolve, 200));

    fastShutdown(db);
    const inFlight = await busy;
    expect(isTransientConnectionError(inFlight)).toBe(true);
    expect((await db.exited()).code).toBe(1);

    // Down: a new connection is refused; work wrapped in withConnectionRetry keeps trying.
    const refused = await pool.query("SELECT 1").then(
      () => undefined,
      (error: Error) => error,
    );
    expect(isTransientConnectionError(refused)).toBe(true);
    const retries: string[] = [];
    const retried = withConnectionRetry(() => pool.query<{ ok: number }>("SELECT 1 AS ok"), {
      deadlineMs: 120_000,
      onRetry: (error) => retries.push((error as { code?: string }).code ?? error.message),
    });

    db = await startLocalDatabase({ stateDir, port });
    expect((await retried).rows).toEqual([{ ok: 1 }]);
    expect(retries.length).toBeGreaterThan(0);
    // The pool dropped the broken clients: plain queries work again.
    expect((await Promise.all([1, 2, 3, 4].map(() => pool.query("SELECT 2 AS two")))).map((r) => r.rows[0].two)).toEqual([2, 2, 2, 2]);
    // The idle connections' end was reported, in lines that hold no password.
    expect(lost.length).toBeGreaterThan(0);
    for (const line of lost) {
      expect(line).toMatch(/^pulse-analytics pool: an idle connection was lost \(.+\); the next query opens a new one\.$/);
      expect(line).not.toContain(password);
    }
  } finally {
    await pool.end();
  }
}, 300_000);

it("hands out every connection with an error listener on it already: a 57P01 read together with the connection's readiness cannot go unheard", async () => {
  const pool = createPool({ connectionString: db.appUrl, pool: { max: 2 } });
  try {
    const client = await pool.connect();
    // The pool removed its idle listener on checkout, and the caller has not added one yet.
    const listeners = client.listenerCount("error");
    client.release();
    expect(listeners).toBeGreaterThan(0);
  } finally {
    await pool.end();
  }
}, 60_000);

it("stores every event exactly once when the server is shut down and restarted while recordSessionEvents runs", async () => {
  const { stateDir, port } = db;
  const pool = createPool({ connectionString: db.appUrl, pool: { max: 2 }, onIdleConnectionLost: () => undefined });
  try {
    const before = await eventCount();
    // Small chunks, so the batch is still being written when the server goes away.
    const writing = recordSessionEvents(pool, EVENTS, { chunkSize: 200, concurrency: 2, connectionRetry: { deadlineMs: 120_000 } });
    while ((await eventCount()) === before) await new Promise((resolve) => setTimeout(resolve, 20));
    fastShutdown(db);
    expect((await db.exited()).code).toBe(1);
    db = await startLocalDatabase({ stateDir, port });

    // One call, no re-send by the caller: every event is stored, none twice.
    const result = await writing;
    expect(result.inserted + result.duplicates).toBe(EVENTS.length);
    const stored = await storedEvents();
    expect(stored).toEqual({ n: before + EVENTS.length, distinct_events: before + EVENTS.length });

    // The aggregates folded through the restart equal a rebuild from the events.
    const [incremental, rebuilt] = await aggregatesAndRebuild(pool);
    expect(rebuilt).toBe(incremental);
  } finally {
    await pool.end();
  }
}, 300_000);

it("stores every event exactly once with 4 writers through two fast restarts and a SIGKILL of the server", async () => {
  const { stateDir, port } = db;
  const pool = createPool({ connectionString: db.appUrl, pool: { max: 8 }, onIdleConnectionLost: () => undefined });
  const restart = async (signal: "SIGINT" | "SIGKILL") => {
    const postmaster = Number(readFileSync(join(db.stateDir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, signal);
    expect((await db.exited()).code).toBe(1);
    db = await startLocalDatabase({ stateDir, port });
  };
  try {
    const before = await eventCount();
    const all = [
      ...generateEvents({
        seed: 59,
        learners: 60,
        skills: 6,
        events: 24_000,
        from: new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)),
        to: now,
      }),
    ];
    // Four writers, overlapping learners, each its own stream of batches, each batch acknowledged by
    // recordSessionEvents returning: the writers never re-send by hand.
    const acknowledged: SessionEvent[] = [];
    const writer = async (events: SessionEvent[]) => {
      for (let start = 0; start < events.length; start += 500) {
        const batch = events.slice(start, start + 500);
        const result = await recordSessionEvents(pool, batch, { chunkSize: 100, concurrency: 2, connectionRetry: { deadlineMs: 120_000 } });
        expect(result.inserted + result.duplicates).toBe(batch.length);
        acknowledged.push(...batch);
      }
    };
    let writing = true;
    const writers = Promise.all([0, 1, 2, 3].map((w) => writer(all.filter((_e, i) => i % 4 === w)))).finally(() => (writing = false));
    const stored = async (atLeast: number) => {
      while ((await eventCount().catch(() => before)) < before + atLeast) await new Promise((resolve) => setTimeout(resolve, 20));
    };
    await stored(2_000);
    expect(writing).toBe(true); // the first restart, at least, hits the writers mid-stream
    await restart("SIGINT");
    await stored(6_000);
    await restart("SIGKILL"); // crash recovery replays the WAL: every acknowledged commit survives
    await stored(10_000);
    await restart("SIGINT");
    await writers;

    expect(acknowledged).toHaveLength(all.length);
    const rows = await storedEvents();
    expect(rows).toEqual({ n: before + all.length, distinct_events: before + all.length });
    const [incremental, rebuilt] = await aggregatesAndRebuild(pool);
    expect(rebuilt).toBe(incremental);
  } finally {
    await pool.end();
  }
}, 300_000);

it("stores every event exactly once when the client process is killed with SIGKILL mid-stream and started again", async () => {
  const before = await eventCount();
  const TOTAL = 6_000;
  const start = () => {
    const from = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth() - 1, 1)).toISOString();
    const args = [join("test", "support", "ingest-writer.ts"), db.appUrl, "61", String(TOTAL), from, now.toISOString()];
    const child = spawn(process.execPath, ["--import", "tsx", ...args], { cwd: ROOT, stdio: ["ignore", "pipe", "pipe"] });
    let stdout = "";
    let stderr = "";
    child.stdout.on("data", (chunk) => (stdout += chunk));
    child.stderr.on("data", (chunk) => (stderr += chunk));
    const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));
    return { child, exited, stdout: () => stdout, stderr: () => stderr };
  };

  const first = start();
  // Killed once it has had a few batches acknowledged, with more in flight.
  while (!/acknowledged 1000\b/.test(first.stdout()) && first.child.exitCode === null) await new Promise((resolve) => setTimeout(resolve, 20));
  expect(first.child.exitCode).toBeNull();
  first.child.kill("SIGKILL");
  await first.exited;
  const survived = (await eventCount()) - before;
  expect(survived).toBeGreaterThanOrEqual(1000);
  expect(survived).toBeLessThan(TOTAL);

  const second = start();
  expect({ code: await second.exited, stderr: second.stderr() }).toEqual({ code: 0, stderr: "" });
  expect(second.stdout()).toContain(`acknowledged ${TOTAL}`);
  const rows = await storedEvents();
  expect(rows).toEqual({ n: before + TOTAL, distinct_events: before + TOTAL });
  const pool = createPool({ connectionString: db.appUrl });
  try {
    const [incremental, rebuilt] = await aggregatesAndRebuild(pool);
    expect(rebuilt).toBe(incremental);
  } finally {
    await pool.end();
  }
}, 300_000);
