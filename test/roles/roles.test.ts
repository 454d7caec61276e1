// The role model as the roles see it, on a real local PULSE Analytics Postgres started by `npm start`:
// what app, readonly, migrator and PUBLIC may and may not do in SQL.

import { Client } from "pg";
import { PASSWORD_SLOTS } from "../../src/roles/role-model";
import { useLocalDatabase, withClient } from "../support/local-database";

const TABLES = ["session_events", "user_skill_agg", "user_readiness"];
const local = useLocalDatabase();

/** Runs `sql` as `role` inside a transaction that is rolled back; resolves to the SQLSTATE or "ok". */
async function attempt(url: string, sql: string): Promise<string> {
  return withClient(url, async (client: Client) => {
    await client.query("BEGIN");
    try {
      await client.query(sql);
      return "ok";
    } catch (error) {
      return (error as { code: string }).code;
    } finally {
      await client.query("ROLLBACK");
    }
  });
}

const INSUFFICIENT_PRIVILEGE = "42501";
const readonlyUrl = () =>
  local.db.appUrl.replace(
    /^postgresql:\/\/pulse_analytics_app_a:[^@]+@/,
    `postgresql://pulse_analytics_readonly_a:${local.db.credentials().readonly}@`,
  );

const ROW = {
  session_events: `INSERT INTO analytics.session_events (event_id, user_id, session_id, skill, occurred_at, score)
                   VALUES (gen_random_uuid(), gen_random_uuid(), gen_random_uuid(), 'algebra', now(), 50)`,
  user_skill_agg: `INSERT INTO analytics.user_skill_agg (user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score)
                   VALUES (gen_random_uuid(), 'algebra', 1, 50, 2500, now(), now(), gen_random_uuid(), 50)`,
  user_readiness: `INSERT INTO analytics.user_readiness (user_id, score, model_version) VALUES (gen_random_uuid(), 70, 'v1')`,
} as Record<string, string>;

describe("pulse_analytics_app (the backend)", () => {
  it.each(TABLES)("may SELECT, INSERT, UPDATE and DELETE on analytics.%s", async (table) => {
    expect(await attempt(local.db.appUrl, `SELECT * FROM analytics.${table} LIMIT 1`)).toBe("ok");
    expect(await attempt(local.db.appUrl, ROW[table])).toBe("ok");
    expect(await attempt(local.db.appUrl, `${ROW[table]}; UPDATE analytics.${table} SET user_id = user_id`)).toBe("ok");
    expect(await attempt(local.db.appUrl, `${ROW[table]}; DELETE FROM analytics.${table}`)).toBe("ok");
  });

  it.each(TABLES)("may not ALTER, DROP or TRUNCATE analytics.%s", async (table) => {
    expect(await attempt(local.db.appUrl, `ALTER TABLE analytics.${table} ADD COLUMN x int`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(local.db.appUrl, `DROP TABLE analytics.${table}`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(local.db.appUrl, `TRUNCATE analytics.${table}`)).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it("may not create objects in schema analytics or schema public", async () => {
    expect(await attempt(local.db.appUrl, "CREATE TABLE analytics.mine (a int)")).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(local.db.appUrl, "CREATE TABLE public.mine (a int)")).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(local.db.appUrl, "CREATE FUNCTION public.f() RETURNS int LANGUAGE sql AS 'SELECT 1'")).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it("has an open transaction left idle ended after 10 s, so a frozen backend cannot hold learners' rows (issue 10)", async () => {
    const setting = (url: string) =>
      withClient(
        url,
        async (client: Client) => (await client.query("SHOW idle_in_transaction_session_timeout")).rows[0].idle_in_transaction_session_timeout,
      );
    expect(await setting(local.db.appUrl)).toBe("10s");
    // Only the backend's role: migrations may hold a transaction open as long as they need.
    expect(await setting(local.db.migrationUrl)).toBe("0");
  });

  it("may create a month's partition through the partition function only (ingest does, issue 10), and not read the migration history", async () => {
    expect(await attempt(local.db.appUrl, "SELECT analytics.ensure_session_event_partitions(0, '2021-01-01')")).toBe("ok");
    expect(
      await attempt(
        local.db.appUrl,
        "CREATE TABLE analytics.session_events_2021_02 PARTITION OF analytics.session_events FOR VALUES FROM ('2021-02-01') TO ('2021-03-01')",
      ),
    ).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(local.db.appUrl, "SELECT * FROM analytics_migrations.pgmigrations")).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

describe("pulse_analytics_readonly (dashboards, analysts)", () => {
  it("may not create partitions", async () => {
    expect(await attempt(readonlyUrl(), "SELECT analytics.ensure_session_event_partitions(0, '2021-01-01')")).toBe(INSUFFICIENT_PRIVILEGE);
  });

  it.each(TABLES)("may SELECT analytics.%s and nothing more", async (table) => {
    expect(await attempt(readonlyUrl(), `SELECT * FROM analytics.${table} LIMIT 1`)).toBe("ok");
    expect(await attempt(readonlyUrl(), ROW[table])).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(readonlyUrl(), `UPDATE analytics.${table} SET user_id = user_id`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(readonlyUrl(), `DELETE FROM analytics.${table}`)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(readonlyUrl(), `TRUNCATE analytics.${table}`)).toBe(INSUFFICIENT_PRIVILEGE);
  });
});

// role-model.ts, PASSWORD_SLOTS: a login role signs in through its two slots; rotation alternates them.
describe("the password slots of each login role", () => {
  const as = (user: string, password: string) => local.db.appUrl.replace(/^postgresql:\/\/[^@]+@/, `postgresql://${user}:${password}@`);

  it.each(PASSWORD_SLOTS)("slot %s of each login role has that role's privileges, and the backend's idle-transaction limit", async (slot) => {
    const { app, readonly, migrator } = local.db.credentials();
    expect(await attempt(as(`pulse_analytics_app_${slot}`, app), ROW.session_events)).toBe("ok");
    expect(await attempt(as(`pulse_analytics_readonly_${slot}`, readonly), ROW.session_events)).toBe(INSUFFICIENT_PRIVILEGE);
    expect(await attempt(as(`pulse_analytics_readonly_${slot}`, readonly), "SELECT * FROM analytics.session_events LIMIT 1")).toBe("ok");
    expect(
      await attempt(
        as(`pulse_analytics_migrator_${slot}`, migrator),
        "SET ROLE pulse_analytics_owner; CREATE TABLE analytics.slot_check (a int); DROP TABLE analytics.slot_check",
      ),
    ).toBe("ok");
    const timeout = await withClient(
      as(`pulse_analytics_app_${slot}`, app),
      async (client: Client) => (await client.query("SHOW idle_in_transaction_session_timeout")).rows[0],
    );
    expect(timeout.idle_in_transaction_session_timeout).toBe("10s");
  });

  it("leaves the login roles themselves without login and without password: they only hold the privileges", async () => {
    const { app } = local.db.credentials();
    const roles = await withClient(local.db.appUrl, async (client: Client) =>
      (
        await client.query(
          "SELECT rolname, rolcanlogin FROM pg_roles WHERE rolname IN ('pulse_analytics_app', 'pulse_analytics_migrator', 'pulse_analytics_readonly') ORDER BY 1",
        )
      ).rows.map((r) => `${r.rolname} login=${r.rolcanlogin}`),
    );
    expect(roles).toEqual(["pulse_analytics_app login=false", "pulse_analytics_migrator login=false", "pulse_analytics_readonly login=false"]);
    // The local password of its slots is no password of the role itself (PASSWORD NULL): 28P01.
    const refused = await withClient(as("pulse_analytics_app", app), async () => "ok").catch((error: { code?: string }) => error.code);
    expect(refused).toBe("28P01");
  });
});

describe("pulse_analytics_migrator (migrations, CI)", () => {
  it("may CREATE, ALTER and DROP tables in analytics", async () => {
    expect(
      await attempt(
        local.db.migrationUrl,
        "CREATE TABLE analytics.scratch (a int); ALTER TABLE analytics.scratch ADD COLUMN b int; DROP TABLE analytics.scratch",
      ),
    ).toBe("ok");
    expect(await attempt(local.db.migrationUrl, "ALTER TABLE analytics.user_readiness ADD COLUMN note text")).toBe("ok");
  });

  it("creating as the owner, makes tables the app and readonly can use with no new grant (default privileges)", async () => {
    await withClient(local.db.migrationUrl, (client) =>
      client.query("SET ROLE pulse_analytics_owner; CREATE TABLE analytics.later_table (id int PRIMARY KEY)"),
    );
    try {
      expect(await attempt(local.db.appUrl, "INSERT INTO analytics.later_table VALUES (1); SELECT * FROM analytics.later_table")).toBe("ok");
      expect(await attempt(readonlyUrl(), "SELECT * FROM analytics.later_table")).toBe("ok");
      expect(await attempt(readonlyUrl(), "INSERT INTO analytics.later_table VALUES (2)")).toBe(INSUFFICIENT_PRIVILEGE);
    } finally {
      await withClient(local.db.migrationUrl, (client) => client.query("DROP TABLE analytics.later_table"));
    }
  });
});

describe("PUBLIC (any other role)", () => {
  it("cannot connect to the analytics database", async () => {
    const admin = local.db.config("pulse_admin", local.db.credentials().admin, "postgres");
    await withClient(admin, (client) => client.query("DROP ROLE IF EXISTS stranger; CREATE ROLE stranger LOGIN PASSWORD 'stranger-pw-1'"));
    try {
      const connecting = withClient(local.db.config("stranger", "stranger-pw-1"), (client) => client.query("SELECT 1"));
      await expect(connecting).rejects.toMatchObject({
        code: INSUFFICIENT_PRIVILEGE,
        message: expect.stringContaining("permission denied for database"),
      });
    } finally {
      await withClient(admin, (client) => client.query("DROP ROLE stranger"));
    }
  });
});
