// Measures the analytics data path on embedded PostgreSQL at a realistic size, on the same table with
// the same indexes: ingest through recordSessionEvents against raw COPY of the same events (timed
// before and after it, the ratio taken to their mean), side by side in each of --runs runs, once per
// number of calls in flight (--in-flight 1,2: one caller, then two, as a backend serving concurrent
// requests has them; the workload generated before anything is timed; wall time, client and server
// CPU and WAL per event for each), query latency of a learner's 90-day timeline and latest readiness,
// and the ingest process's peak memory.
// Prints the report; with --record also writes bench/results/analytics.json (tracked), so a run never
// dirties the tree unasked. Never part of `npm test`.
//
//   npm run bench:analytics                                  # 1,000,000 events, 10,000 learners, 50 skills, 12 months
//   npm run bench:analytics -- --record                      # the same, and keep the result
//   npm run bench:analytics -- --events 200000 --batch 10000 --chunk 5000 --concurrency 1 --runs 5 --in-flight 1,2,4

import { cpus, totalmem, tmpdir } from "node:os";
import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Pool } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { latestReadiness, rebuildAggregates, recordSessionEvents, skillTimeline, SessionEvent } from "../src/analytics";
import { bootstrapLocalDatabase } from "../src/local/bootstrap";
import { buildPostgresUrl } from "../src/client/connection-url";
import { LOCAL_SUPERUSER, LocalPostgres } from "../src/local/local-postgres";
import { migrate } from "../src/client/migrate";
import { createPool } from "../src/client/pool";
import { onlyRow } from "../src/client/rows";
import { generateEvents, pickFrom, seededRandom, WorkloadOptions } from "./workload";

const { values } = parseArgs({
  options: {
    events: { type: "string", default: "1000000" },
    learners: { type: "string", default: "10000" },
    skills: { type: "string", default: "50" },
    months: { type: "string", default: "12" },
    batch: { type: "string", default: "20000" },
    chunk: { type: "string" }, // unset: recordSessionEvents' own default
    concurrency: { type: "string", default: "2" },
    queries: { type: "string", default: "2000" },
    seed: { type: "string", default: "20261124" },
    runs: { type: "string", default: "3" },
    "in-flight": { type: "string", default: "1,2" },
    record: { type: "boolean", default: false },
  },
});
const wholeNumber = (name: keyof typeof values, min: number) => {
  const value = Number(values[name]);
  if (!Number.isInteger(value) || value < min) {
    console.error(`error: --${name} must be a whole number of at least ${min}, got ${JSON.stringify(values[name])}`);
    process.exit(2);
  }
  return value;
};
const config = {
  events: wholeNumber("events", 1000),
  learners: wholeNumber("learners", 1),
  skills: wholeNumber("skills", 1),
  months: wholeNumber("months", 1),
  batch: wholeNumber("batch", 1),
  chunk: values.chunk === undefined ? undefined : wholeNumber("chunk", 1),
  concurrency: wholeNumber("concurrency", 1),
  queries: wholeNumber("queries", 10),
  seed: wholeNumber("seed", 0),
  runs: wholeNumber("runs", 1),
  inFlight: callsInFlight(values["in-flight"]),
};

/** --in-flight: whole numbers from 1, separated by commas, each measured in every run. */
function callsInFlight(text: string | undefined): number[] {
  const counts = String(text).split(",").map(Number);
  if (counts.some((count) => !Number.isInteger(count) || count < 1)) {
    console.error(`error: --in-flight must be whole numbers of at least 1 separated by commas (1,2), got ${JSON.stringify(text)}`);
    process.exit(2);
  }
  return [...new Set(counts)];
}

// The server as it would be sized for the data: buffers for the working set, checkpoints spaced out
// so neither COPY nor ingest pays for one the other did not. Commits stay synchronous: a system of record.
const SERVER_SETTINGS = { shared_buffers: "2GB", max_wal_size: "8GB", checkpoint_timeout: "30min", work_mem: "16MB" };

const log = (message: string) => console.error(`[bench] ${message}`);
const seconds = (ms: number) => Math.round(ms / 10) / 100;

async function main(): Promise<void> {
  const stateDir = mkdtempSync(join(tmpdir(), "pulse-bench-"));
  chmodSync(stateDir, 0o755);
  const port = 54000 + Math.floor(Math.random() * 900);
  const server = await LocalPostgres.start({ stateDir, port, serverSettings: SERVER_SETTINGS, timeoutMs: 120_000 });
  const url = (user: string, password: string) => buildPostgresUrl({ user, password, host: "localhost", port, database: "pulse_analytics" });
  const credentials = server.credentials;
  const appUrl = url("pulse_analytics_app_a", credentials.app);
  const migratorUrl = url("pulse_analytics_migrator_a", credentials.migrator);
  let app: Pool | undefined;
  let migrator: Pool | undefined;
  try {
    await bootstrapLocalDatabase({ host: "localhost", port, superuser: LOCAL_SUPERUSER, databaseName: "pulse_analytics", credentials });
    await migrate({ databaseUrl: migratorUrl });
    // A connection for every chunk the calls in flight write at once: the pool never holds them back.
    app = createPool({ connectionString: appUrl, pool: { max: Math.max(...config.inFlight) * config.concurrency } });
    migrator = createPool({ connectionString: migratorUrl, pool: { max: 1 } });

    const to = new Date();
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - config.months, to.getUTCDate()));
    await migrator.query("SELECT analytics.ensure_session_event_partitions($1, $2::date)", [config.months + 1, from.toISOString().slice(0, 10)]);
    const workload: WorkloadOptions = { seed: config.seed, learners: config.learners, skills: config.skills, events: config.events, from, to };
    const version = onlyRow(await app.query<{ v: string }>("SELECT current_setting('server_version') AS v"), "server_version").v;
    log(`PostgreSQL ${version}; ${config.events} events, ${config.learners} learners, ${config.skills} skills, ${config.months} months`);

    // The workload is generated before either is timed (generating costs more per event than writing
    // it does): both then start from the same events in memory, into the same empty table and indexes.
    const generateStart = process.hrtime.bigint();
    const events = [...generateEvents(workload)];
    const batches: SessionEvent[][] = [];
    for (let start = 0; start < events.length; start += config.batch) batches.push(events.slice(start, start + config.batch));
    log(`workload generated in ${seconds(Number(process.hrtime.bigint() - generateStart) / 1e6)} s (not timed)`);
    const postmasterPid = Number(readFileSync(join(server.dataDir, "postmaster.pid"), "utf8").split("\n")[0]);
    const measure = (work: () => Promise<void>) => measured(work, postmasterPid, migrator!);

    const perEvent = (m: Measured) => ({
      clientCpuMicroseconds: round2((m.clientCpuMs * 1000) / config.events),
      serverCpuMicroseconds: round2((m.serverCpuMs * 1000) / config.events),
      walBytes: Math.round(m.walBytes / config.events),
    });
    // Each run, on empty tables after a checkpoint each time: 1. raw COPY into session_events, the
    // ceiling for getting rows in; 2. the same events through recordSessionEvents, batch by batch,
    // aggregates included, once per --in-flight count; 3. COPY again. The ratio is to the mean of the two
    // COPYs, so a machine that speeds up or slows down during a run (a shared one does) favours neither.
    // The last COPY's events stay for the queries, with their aggregates rebuilt (what ingest maintains).
    const runs: Array<{ copy: Measured; ingest: Map<number, Measured> }> = [];
    const memory = sampleMemory();
    const emptyTables = async () => {
      await migrator!.query("TRUNCATE analytics.session_events, analytics.user_skill_agg");
      await migrator!.query("CHECKPOINT").catch(() => undefined);
    };
    for (let run = 1; run <= config.runs; run++) {
      await emptyTables();
      const copyBefore = await measure(() => copyEvents(app!, events));
      const ingest = new Map<number, Measured>();
      for (const inFlight of config.inFlight) {
        await emptyTables();
        let inserted = 0;
        const measuredIngest = await measure(async () => {
          // `inFlight` calls at a time, each taking the next batch, as a backend serving concurrent requests does.
          let next = 0;
          const caller = async () => {
            for (let b = next++; b < batches.length; b = next++) {
              const result = await recordSessionEvents(app!, batches[b]!, { chunkSize: config.chunk, concurrency: config.concurrency });
              inserted += result.inserted;
            }
          };
          await Promise.all(Array.from({ length: inFlight }, caller));
        });
        if (inserted !== config.events) throw new Error(`recordSessionEvents inserted ${inserted} of ${config.events} events`);
        ingest.set(inFlight, measuredIngest);
      }
      await emptyTables();
      const copy = meanOf(copyBefore, await measure(() => copyEvents(app!, events)));
      runs.push({ copy, ingest });
      log(
        `run ${run}: COPY ${seconds(copy.ms)} s ${JSON.stringify(perEvent(copy))}; ` +
          config.inFlight
            .map(
              (n) =>
                `${n} in flight ${seconds(ingest.get(n)!.ms)} s, ratio ${(copy.ms / ingest.get(n)!.ms).toFixed(2)} ${JSON.stringify(perEvent(ingest.get(n)!))}`,
            )
            .join("; "),
      );
    }
    const peak = memory.stop();
    await rebuildAggregates(app);
    const median = <T>(items: readonly T[]): T => items[Math.floor(items.length / 2)]!;
    const byCallsInFlight = config.inFlight.map((callsInFlight) => {
      const ratioOf = (r: (typeof runs)[number]) => r.copy.ms / r.ingest.get(callsInFlight)!.ms;
      const ratios = runs.map(ratioOf).sort((a, b) => a - b);
      const medianRun = runs.find((r) => ratioOf(r) === median(ratios))!;
      const ingest = medianRun.ingest.get(callsInFlight)!;
      log(
        `${callsInFlight} call(s) in flight: ratio to COPY over ${runs.length} run(s): median ${median(ratios).toFixed(2)}, from ${ratios[0]!.toFixed(2)} to ${ratios.at(-1)!.toFixed(2)}`,
      );
      return {
        callsInFlight,
        ratioToCopy: Number(median(ratios).toFixed(3)),
        ratioToCopyEachRun: runs.map((r) => Number(ratioOf(r).toFixed(3))),
        // COPY's seconds are the mean of the run's two; how the machine's load moved shows in them.
        secondsEachRun: runs.map((r) => ({ copy: seconds(r.copy.ms), recordSessionEvents: seconds(r.ingest.get(callsInFlight)!.ms) })),
        perEventEachRun: runs.map((r) => ({ copy: perEvent(r.copy), recordSessionEvents: perEvent(r.ingest.get(callsInFlight)!) })),
        medianRun: {
          copyEventsPerSecond: Math.round(config.events / (medianRun.copy.ms / 1000)),
          recordSessionEventsPerSecond: Math.round(config.events / (ingest.ms / 1000)),
          copySeconds: seconds(medianRun.copy.ms),
          ingestSeconds: seconds(ingest.ms),
          perEvent: { copy: perEvent(medianRun.copy), recordSessionEvents: perEvent(ingest) },
        },
      };
    });

    // 3. Readiness snapshots: one per learner per month, as a monthly job would leave them.
    await migrator.query(
      `
      INSERT INTO analytics.user_readiness (user_id, computed_at, score, components, model_version)
      SELECT a.user_id, m.at, round((50 + 50 * sin(extract(epoch FROM m.at) / 1e6 + hashtext(a.user_id::text)))::numeric / 2 + 25, 2),
             jsonb_build_object('skills', count(*)), 'readiness-v1'
      FROM analytics.user_skill_agg a
      CROSS JOIN generate_series($1::timestamptz, $2::timestamptz, interval '1 month') AS m(at)
      GROUP BY a.user_id, m.at`,
      [from, to],
    );
    await migrator.query("VACUUM (ANALYZE) analytics.session_events, analytics.user_skill_agg, analytics.user_readiness");
    const readinessRows = Number(onlyRow(await migrator.query<{ count: string }>("SELECT count(*) FROM analytics.user_readiness"), "count").count);

    // 4. Latency, as the backend sees it: one query at a time through the app role's pool.
    const learners = (await migrator.query<{ user_id: string }>("SELECT DISTINCT user_id FROM analytics.user_skill_agg")).rows.map((r) => r.user_id);
    const random = seededRandom(config.seed + 1);
    const pick = () => pickFrom(learners, random);
    const ninetyDaysAgo = new Date(to.getTime() - 90 * 86_400_000);
    await warmUp(() => skillTimeline(app!, pick(), { from: ninetyDaysAgo, to, bucket: "day" }), 100);
    const timeline = await latencies(config.queries, () => skillTimeline(app!, pick(), { from: ninetyDaysAgo, to, bucket: "day" }));
    await warmUp(() => latestReadiness(app!, pick()), 100);
    const readiness = await latencies(config.queries * 2, () => latestReadiness(app!, pick()));
    log(`90-day timeline: p50 ${timeline.p50} ms, p95 ${timeline.p95} ms, p99 ${timeline.p99} ms`);
    log(`latest readiness: p50 ${readiness.p50} ms, p95 ${readiness.p95} ms, p99 ${readiness.p99} ms`);
    const sizes = onlyRow(
      await migrator.query<{ agg: string; events: string }>(`SELECT pg_size_pretty(pg_total_relation_size('analytics.user_skill_agg')) AS agg,
      (SELECT pg_size_pretty(sum(pg_total_relation_size(inhrelid))) FROM pg_inherits WHERE inhparent = 'analytics.session_events'::regclass) AS events`),
      "sizes",
    );

    const report = {
      measuredAt: new Date().toISOString(),
      command: `npm run bench:analytics -- ${process.argv.slice(2).join(" ")}`.trim(),
      machine: { cores: cpus().length, cpu: cpus()[0]?.model, memoryGiB: Math.round(totalmem() / 2 ** 30), node: process.version, postgres: version },
      serverSettings: SERVER_SETTINGS,
      workload: { ...config, from: from.toISOString(), to: to.toISOString(), sizes },
      ingest: {
        target: "ratio >= 0.7",
        byCallsInFlight,
        workloadGeneratedBeforeTiming: true,
        batchSize: config.batch,
        chunkSize: config.chunk ?? "recordSessionEvents' default: the batch shared among the connections, 2,500 to 10,000 per chunk",
        concurrency: config.concurrency,
        peakRssMiB: peak.rssMiB,
        peakHeapUsedMiB: peak.heapMiB,
      },
      queries: {
        timeline90Days: { ...timeline, target: "p95 <= 5 ms", queries: config.queries },
        latestReadiness: { ...readiness, target: "p95 <= 1 ms", queries: config.queries * 2, readinessRows },
      },
    };
    console.log(JSON.stringify(report, null, 2));
    if (values.record) {
      mkdirSync(join(__dirname, "results"), { recursive: true });
      writeFileSync(join(__dirname, "results", "analytics.json"), `${JSON.stringify(report, null, 2)}\n`);
      log("written: bench/results/analytics.json");
    } else {
      log("not recorded (add --record to write bench/results/analytics.json)");
    }
  } finally {
    await app?.end();
    await migrator?.end();
    await server.stop();
    rmSync(stateDir, { recursive: true, force: true });
  }
}

/** COPY the events into session_events in PostgreSQL's text format, streamed. */
async function copyEvents(pool: Pool, events: readonly SessionEvent[]): Promise<void> {
  const client = await pool.connect();
  try {
    const escape = (text: string) => text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");
    const lines = (function* () {
      let chunk = "";
      for (const e of events) {
        const metrics = e.metrics ? escape(JSON.stringify(e.metrics)) : "\\N";
        chunk += `${e.eventId}\t${e.userId}\t${e.sessionId}\t${escape(e.skill)}\t${new Date(e.occurredAt).toISOString()}\t${e.score}\t${metrics}\n`;
        if (chunk.length > 1 << 16) {
          yield chunk;
          chunk = "";
        }
      }
      if (chunk) yield chunk;
    })();
    await pipeline(
      Readable.from(lines),
      client.query(copyFrom("COPY analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score, metrics) FROM STDIN")),
    );
  } finally {
    client.release();
  }
}

interface Measured {
  /** Wall-clock time. */
  readonly ms: number;
  /** CPU time of this process (user + system). */
  readonly clientCpuMs: number;
  /** CPU time of every PostgreSQL process (the backends, WAL writer, checkpointer, …), user + system. */
  readonly serverCpuMs: number;
  /** WAL written, by pg_current_wal_lsn(). */
  readonly walBytes: number;
}

/** The mean of two measurements of the same work. */
function meanOf(a: Measured, b: Measured): Measured {
  const mean = (key: keyof Measured) => (a[key] + b[key]) / 2;
  return { ms: mean("ms"), clientCpuMs: mean("clientCpuMs"), serverCpuMs: mean("serverCpuMs"), walBytes: mean("walBytes") };
}

/** Runs `work` and measures its time, both sides' CPU and the WAL it wrote. */
async function measured(work: () => Promise<void>, postmasterPid: number, pool: Pool): Promise<Measured> {
  const lsn = async () => onlyRow(await pool.query<{ lsn: string }>("SELECT pg_current_wal_lsn()::text AS lsn"), "lsn").lsn;
  const startLsn = await lsn();
  const serverStart = serverCpuMs(postmasterPid);
  const clientStart = process.cpuUsage();
  const start = process.hrtime.bigint();
  await work();
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const client = process.cpuUsage(clientStart);
  const serverCpu = serverCpuMs(postmasterPid) - serverStart;
  const endLsn = await lsn();
  const walBytes = Number(
    onlyRow(await pool.query<{ bytes: string }>("SELECT pg_wal_lsn_diff($1, $2)::text AS bytes", [endLsn, startLsn]), "wal").bytes,
  );
  return { ms, clientCpuMs: (client.user + client.system) / 1000, serverCpuMs: serverCpu, walBytes };
}

/**
 * CPU time, in ms, of the postmaster and its children: those running (utime + stime of each, from
 * /proc/<pid>/stat) and those that ended (the postmaster's cutime + cstime). Linux only.
 */
function serverCpuMs(postmasterPid: number): number {
  const ticksPerMs = 100 / 1000; // USER_HZ is 100 on Linux
  const fields = (pid: string) => {
    const text = readFileSync(`/proc/${pid}/stat`, "utf8");
    // Fields after the command name, which is in parentheses and may contain spaces.
    return text.slice(text.lastIndexOf(")") + 2).split(" ");
  };
  let ticks = 0;
  const own = fields(String(postmasterPid));
  // After ")": state(0) ppid(1) … utime(11) stime(12) cutime(13) cstime(14).
  ticks += Number(own[11]) + Number(own[12]) + Number(own[13]) + Number(own[14]);
  for (const pid of readdirSync("/proc").filter((name) => /^\d+$/.test(name))) {
    try {
      const f = fields(pid);
      if (Number(f[1]) === postmasterPid) ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // The process ended between the listing and the read.
    }
  }
  return ticks / ticksPerMs;
}

const round2 = (value: number) => Math.round(value * 100) / 100;

async function warmUp(query: () => Promise<unknown>, times: number): Promise<void> {
  for (let i = 0; i < times; i++) await query();
}

async function latencies(count: number, query: () => Promise<unknown>): Promise<{ p50: number; p95: number; p99: number; mean: number }> {
  const samples: number[] = [];
  for (let i = 0; i < count; i++) {
    const start = process.hrtime.bigint();
    await query();
    samples.push(Number(process.hrtime.bigint() - start) / 1e6);
  }
  samples.sort((a, b) => a - b);
  const at = (q: number) => Math.round((samples[Math.min(samples.length - 1, Math.floor(q * samples.length))] ?? NaN) * 1000) / 1000;
  return { p50: at(0.5), p95: at(0.95), p99: at(0.99), mean: Math.round((samples.reduce((a, b) => a + b, 0) / samples.length) * 1000) / 1000 };
}

/** Samples this process's memory every 50 ms until stopped; returns the peaks in MiB. */
function sampleMemory(): { stop(): { rssMiB: number; heapMiB: number } } {
  let rss = 0;
  let heap = 0;
  const sample = () => {
    const usage = process.memoryUsage();
    rss = Math.max(rss, usage.rss);
    heap = Math.max(heap, usage.heapUsed);
  };
  const timer = setInterval(sample, 50);
  return {
    stop() {
      clearInterval(timer);
      sample();
      return { rssMiB: Math.round(rss / 2 ** 20), heapMiB: Math.round(heap / 2 ** 20) };
    },
  };
}

main().catch((error) => {
  console.error(error);
  process.exit(1);
});
