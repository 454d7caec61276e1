// The analytics schema on real PostgreSQL, as the backend (the app role) meets it: constraints that
// reject bad rows by name, monthly partitions, the latest readiness as one index lookup, and comments.

import { Client } from "pg";
import { runCli, useLocalDatabase, withClient } from "../support/local-database";

const local = useLocalDatabase();

/** An INSERT as the app role that must fail; resolves to the error's code, constraint and column. */
async function rejected(
  sql: string,
  values: unknown[] = [],
): Promise<Record<"code" | "message", string> & Partial<Record<"constraint" | "column" | "detail", string>>> {
  return withClient(local.db.appUrl, async (client: Client) => {
    try {
      await client.query(sql, values);
    } catch (error) {
      const { code, message, constraint, column, detail } = error as Record<string, string>;
      return { code, message, constraint, column, detail };
    }
    throw new Error(`expected ${sql} to be rejected`);
  });
}

const EVENT =
  "INSERT INTO analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score, metrics) VALUES ($1, $2, $3, $4, $5, $6, $7)";
const event = (overrides: Partial<Record<"user_id" | "occurred_at" | "score" | "skill" | "metrics", unknown>> = {}) => [
  crypto.randomUUID(),
  "user_id" in overrides ? overrides.user_id : crypto.randomUUID(),
  crypto.randomUUID(),
  overrides.skill ?? "algebra",
  "occurred_at" in overrides ? overrides.occurred_at : new Date(),
  overrides.score ?? 50,
  overrides.metrics ?? null,
];

describe("constraints", () => {
  // Scores are stored to two decimals (numeric(5,2)): 100.001 rounds to 100.00 and is a valid score.
  it.each([101, -1, 100.01, -0.01])("reject a session event scored %s, naming session_events_score_range", async (score) => {
    expect(await rejected(EVENT, event({ score }))).toMatchObject({ code: "23514", constraint: "session_events_score_range" });
  });

  it("reject a session event without user_id, naming the column of the NOT NULL constraint", async () => {
    expect(await rejected(EVENT, event({ user_id: null }))).toMatchObject({ code: "23502", column: "user_id" });
  });

  it("reject a session event with a NULL occurred_at, saying the partition key is null", async () => {
    // A NULL partition key fails routing, before the partition's NOT NULL constraint is reached.
    expect(await rejected(EVENT, event({ occurred_at: null }))).toMatchObject({
      code: "23514",
      message: 'no partition of relation "session_events" found for row',
      detail: "Partition key of the failing row contains (occurred_at) = (null).",
    });
  });

  it("reject an empty skill and metrics that are not an object, by name", async () => {
    expect(await rejected(EVENT, event({ skill: "" }))).toMatchObject({ constraint: "session_events_skill_not_blank" });
    expect(await rejected(EVENT, event({ metrics: JSON.stringify([1, 2]) }))).toMatchObject({ constraint: "session_events_metrics_object" });
  });

  it("reject the same event twice (event_id, occurred_at), naming the month partition's primary key", async () => {
    const row = event();
    await withClient(local.db.appUrl, (client) => client.query(EVENT, row));
    expect(await rejected(EVENT, row)).toMatchObject({ code: "23505", constraint: expect.stringMatching(/^session_events_\d{4}_\d{2}_pkey$/) });
  });

  it.each([100.5, -0.5])("reject a readiness score of %s, naming user_readiness_score_range", async (score) => {
    const sql = "INSERT INTO analytics.user_readiness (user_id, score, model_version) VALUES ($1, $2, 'v1')";
    expect(await rejected(sql, [crypto.randomUUID(), score])).toMatchObject({ code: "23514", constraint: "user_readiness_score_range" });
  });

  it("reject skill aggregates whose first event comes after the last", async () => {
    const sql = `INSERT INTO analytics.user_skill_agg (user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score)
                 VALUES ($1, 'algebra', 1, 50, 2500, now(), now() - interval '1 day', $2, 50)`;
    expect(await rejected(sql, [crypto.randomUUID(), crypto.randomUUID()])).toMatchObject({ constraint: "user_skill_agg_first_before_last" });
  });
});

describe("session_events partitions", () => {
  const partitions = () =>
    withClient(local.db.migrationUrl, async (client) =>
      (
        await client.query(
          "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'analytics.session_events'::regclass ORDER BY 1",
        )
      ).rows.map((r) => r.relname as string),
    );
  const monthName = (date: Date) => `session_events_${date.getUTCFullYear()}_${String(date.getUTCMonth() + 1).padStart(2, "0")}`;
  const addMonths = (date: Date, months: number) => new Date(Date.UTC(date.getUTCFullYear(), date.getUTCMonth() + months, 1));

  it("cover last month through three months ahead after the migration (before any db:maintain)", async () => {
    const now = new Date();
    expect(await partitions()).toEqual([-1, 0, 1, 2, 3].map((m) => monthName(addMonths(now, m))));
  });

  it("are created idempotently: running db:maintain again creates nothing new", async () => {
    const first = await runCli("db-maintain", ["--months-ahead", "6"], { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: local.db.migrationUrl });
    const before = await partitions();
    const second = await runCli("db-maintain", ["--months-ahead", "6"], { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: local.db.migrationUrl });
    expect(first.code).toBe(0);
    expect(second).toMatchObject({ code: 0, stderr: expect.stringContaining("session_events partitions: 0 created, the next 6 month(s) covered.") });
    expect(await partitions()).toEqual(before);
    expect(before).toEqual(expect.arrayContaining([0, 1, 2, 3, 4, 5, 6].map((m) => monthName(addMonths(new Date(), m)))));
  });

  it("put an event of any covered month into that month's partition, at the UTC month boundaries", async () => {
    const covered = await partitions();
    await withClient(local.db.appUrl, async (client) => {
      for (const name of covered) {
        const [, year, month] = name.match(/(\d{4})_(\d{2})$/)!;
        const first = new Date(Date.UTC(Number(year), Number(month) - 1, 1));
        const last = new Date(Date.UTC(Number(year), Number(month), 1) - 1);
        for (const occurredAt of [first, last]) {
          const row = event({ occurred_at: occurredAt });
          await client.query(EVENT, row);
          const landed = await client.query("SELECT tableoid::regclass::text AS partition FROM analytics.session_events WHERE event_id = $1", [
            row[0],
          ]);
          expect({ occurredAt, partition: landed.rows[0].partition }).toEqual({ occurredAt, partition: `analytics.${name}` });
        }
      }
    });
  });

  it("refuse an event outside every partition instead of hiding it in a default one", async () => {
    expect(await rejected(EVENT, event({ occurred_at: new Date("1999-06-15T00:00:00Z") }))).toMatchObject({ code: "23514" });
  });

  it("are owned by pulse_analytics_owner, so the app can write into new ones", async () => {
    const owners = await withClient(
      local.db.migrationUrl,
      async (client) =>
        (
          await client.query(
            "SELECT DISTINCT pg_get_userbyid(c.relowner) AS owner FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid WHERE i.inhparent = 'analytics.session_events'::regclass",
          )
        ).rows,
    );
    expect(owners).toEqual([{ owner: "pulse_analytics_owner" }]);
  });

  it("refuse a nonsensical horizon with a clear error", async () => {
    const env = { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: local.db.migrationUrl };
    expect(await runCli("db-maintain", ["--months-ahead=-1"], env)).toMatchObject({
      code: 1,
      stderr: 'error: invalid --months-ahead: "-1". Allowed: a whole number from 0 to 120.\n',
    });
    expect(await runCli("db-maintain", ["--months-ahead", "121"], env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: invalid --months-ahead: "121"/),
    });
    expect(await runCli("db-maintain", ["--months"], env)).toMatchObject({
      code: 1,
      stderr: expect.stringMatching(/^error: Unknown option '--months'/),
    });
  });
});

describe("user_readiness", () => {
  it("finds a learner's latest snapshot with one backward scan of the primary key", async () => {
    const plan = await withClient(local.db.appUrl, async (client) => {
      await client.query("SET enable_seqscan = off");
      const result = await client.query(
        "EXPLAIN (FORMAT JSON) SELECT * FROM analytics.user_readiness WHERE user_id = $1 ORDER BY computed_at DESC LIMIT 1",
        [crypto.randomUUID()],
      );
      return result.rows[0]["QUERY PLAN"][0].Plan;
    });
    expect(plan["Node Type"]).toBe("Limit");
    expect(plan.Plans[0]).toMatchObject({ "Node Type": "Index Scan", "Scan Direction": "Backward", "Index Name": "user_readiness_pkey" });
  });
});

describe("comments", () => {
  it("describe every analytics table and column", async () => {
    const missing = await withClient(local.db.migrationUrl, async (client) =>
      (
        await client.query(`
          SELECT c.relname || coalesce('.' || a.attname, '') AS object
          FROM pg_class c
          LEFT JOIN pg_attribute a ON a.attrelid = c.oid AND a.attnum > 0 AND NOT a.attisdropped
          WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition
            AND (obj_description(c.oid, 'pg_class') IS NULL OR (a.attname IS NOT NULL AND col_description(c.oid, a.attnum) IS NULL))`)
      ).rows.map((r) => r.object),
    );
    expect(missing).toEqual([]);
  });
});
