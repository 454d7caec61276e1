// Measures the analytics data path on embedded PostgreSQL at a realistic size, in one run, on the
// same table with the same indexes: ingest through recordSessionEvents against raw COPY, query
// latency of a learner's 90-day timeline and latest readiness, and the ingest process's peak memory.
// Prints the report; with --record also writes bench/results/analytics.json (tracked), so a run never
// dirties the tree unasked. Never part of `npm test`.
//
//   npm run bench:analytics                                  # 1,000,000 events, 10,000 learners, 50 skills, 12 months
//   npm run bench:analytics -- --record                      # the same, and keep the result
//   npm run bench:analytics -- --events 200000 --batch 10000 --chunk 5000 --concurrency 1

import { cpus, totalmem, tmpdir } from "node:os";
import { chmodSync, mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { Readable } from "node:stream";
import { pipeline } from "node:stream/promises";
import { parseArgs } from "node:util";
import { Pool } from "pg";
import { from as copyFrom } from "pg-copy-streams";
import { latestReadiness, recordSessionEvents, skillTimeline, SessionEvent } from "../src/analytics";
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
    chunk: { type: "string", default: "2500" },
    concurrency: { type: "string", default: "2" },
    queries: { type: "string", default: "2000" },
    seed: { type: "string", default: "20261124" },
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
  chunk: wholeNumber("chunk", 1),
  concurrency: wholeNumber("concurrency", 1),
  queries: wholeNumber("queries", 10),
  seed: wholeNumber("seed", 0),
};

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
    app = createPool({ connectionString: appUrl, pool: { max: 4 } });
    migrator = createPool({ connectionString: migratorUrl, pool: { max: 1 } });

    const to = new Date();
    const from = new Date(Date.UTC(to.getUTCFullYear(), to.getUTCMonth() - config.months, to.getUTCDate()));
    await migrator.query("SELECT analytics.ensure_session_event_partitions($1, $2::date)", [config.months + 1, from.toISOString().slice(0, 10)]);
    const workload: WorkloadOptions = { seed: config.seed, learners: config.learners, skills: config.skills, events: config.events, from, to };
    const version = onlyRow(await app.query<{ v: string }>("SELECT current_setting('server_version') AS v"), "server_version").v;
    log(`PostgreSQL ${version}; ${config.events} events, ${config.learners} learners, ${config.skills} skills, ${config.months} months`);

    // 1. Raw COPY into session_events: the ceiling for getting rows in.
    const copyMs = await timed(() => copyEvents(app!, workload));
    const copyRate = config.events / (copyMs / 1000);
    log(`COPY: ${seconds(copyMs)} s, ${Math.round(copyRate)} events/s`);
    await migrator.query("TRUNCATE analytics.session_events, analytics.user_skill_agg");
    await migrator.query("CHECKPOINT").catch(() => undefined);

    // 2. The same events through recordSessionEvents, batch by batch, one writer, aggregates included.
    const memory = sampleMemory();
    let inserted = 0;
    const record = (batch: SessionEvent[]) =>
      recordSessionEvents(app!, batch, { chunkSize: config.chunk, concurrency: config.concurrency }).then((r) => {
        inserted += r.inserted;
      });
    const ingestMs = await timed(async () => {
      // As a backend does (and as COPY streams): the next batch is assembled while the last one is written.
      let writing: Promise<void> = Promise.resolve();
      let batch: SessionEvent[] = [];
      for (const event of generateEvents(workload)) {
        batch.push(event);
        if (batch.length === config.batch) {
          await writing;
          writing = record(batch);
          batch = [];
        }
      }
      await writing;
      if (batch.length > 0) await record(batch);
    });
    const peak = memory.stop();
    const ingestRate = config.events / (ingestMs / 1000);
    log(
      `recordSessionEvents: ${seconds(ingestMs)} s, ${Math.round(ingestRate)} events/s (${inserted} inserted), ratio to COPY ${(ingestRate / copyRate).toFixed(2)}`,
    );

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
        copyEventsPerSecond: Math.round(copyRate),
        recordSessionEventsPerSecond: Math.round(ingestRate),
        ratioToCopy: Number((ingestRate / copyRate).toFixed(3)),
        target: "ratio >= 0.7",
        batchSize: config.batch,
        chunkSize: config.chunk,
        concurrency: config.concurrency,
        writers: 1,
        copySeconds: seconds(copyMs),
        ingestSeconds: seconds(ingestMs),
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

/** COPY the workload's events into session_events in PostgreSQL's text format, streamed. */
async function copyEvents(pool: Pool, workload: WorkloadOptions): Promise<void> {
  const client = await pool.connect();
  try {
    const escape = (text: string) => text.replace(/\\/g, "\\\\").replace(/\t/g, "\\t").replace(/\n/g, "\\n");
    const lines = (function* () {
      let chunk = "";
      for (const e of generateEvents(workload)) {
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

async function timed(work: () => Promise<void>): Promise<number> {
  const start = process.hrtime.bigint();
  await work();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

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
