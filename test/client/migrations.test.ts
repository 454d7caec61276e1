// `npm run db:migrate` against real PostgreSQL: from an empty database, again, twice at once, with a
// migration that fails midway, and as a dry run. Each case gets a fresh database bootstrapped with the
// role model, on one local server started by `npm start`.

import { cpSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { bootstrapLocalDatabase } from "../../src/local/bootstrap";
import { buildPostgresUrl } from "../../src/client/connection-url";
import { MIGRATIONS_DIR } from "../../src/client/migrate";
import { runCli, useLocalDatabase, withClient } from "../support/local-database";

/** node-pg-migrate's well-known advisory lock id (PG_MIGRATE_LOCK_ID in its API). */
const PG_MIGRATE_LOCK_ID = "7241865325823964";
const MIGRATIONS = [
  "1764028800000_session-events",
  "1764028800001_user-skill-agg",
  "1764028800002_user-readiness",
  "1764028800003_user-skill-agg-fillfactor",
  "1764028800004_app-creates-partitions",
];
const local = useLocalDatabase();
let databases = 0;

/** A new, empty analytics database with the role model's grants, and the migrator's URL for it. */
async function emptyDatabase(): Promise<{ name: string; migrationUrl: string }> {
  const name = `migrate_test_${++databases}`;
  await bootstrapLocalDatabase({
    host: "localhost",
    port: local.db.port,
    superuser: "postgres",
    databaseName: name,
    credentials: local.db.credentials(),
  });
  const migrationUrl = buildPostgresUrl({
    user: "pulse_analytics_migrator_a",
    password: local.db.credentials().migrator,
    host: "localhost",
    port: local.db.port,
    database: name,
  });
  return { name, migrationUrl };
}

const migrateCli = (url: string, args: string[] = []) => runCli("db-migrate", args, { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: url });

async function tablesOf(url: string): Promise<string[]> {
  return withClient(url, async (client) =>
    (
      await client.query(
        "SELECT relname FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1",
      )
    ).rows.map((r) => r.relname),
  );
}

async function recordedMigrations(url: string): Promise<string[]> {
  return withClient(url, async (client) =>
    (await client.query("SELECT name FROM analytics_migrations.pgmigrations ORDER BY id")).rows.map((r) => r.name),
  );
}

describe("npm run db:migrate", () => {
  it("applies every migration to an empty database, as objects owned by pulse_analytics_owner", async () => {
    const { migrationUrl } = await emptyDatabase();
    const run = await migrateCli(migrationUrl);
    expect(run).toMatchObject({ code: 0, stderr: expect.stringContaining("Applied 5 migration(s).") });
    expect(await tablesOf(migrationUrl)).toEqual(["session_events", "user_readiness", "user_skill_agg"]);
    expect(await recordedMigrations(migrationUrl)).toEqual(MIGRATIONS);
    const owners = await withClient(
      migrationUrl,
      async (client) =>
        (await client.query("SELECT DISTINCT pg_get_userbyid(relowner) AS owner FROM pg_class WHERE relnamespace = 'analytics'::regnamespace")).rows,
    );
    expect(owners).toEqual([{ owner: "pulse_analytics_owner" }]);
  });

  it("does nothing when run again", async () => {
    const { migrationUrl } = await emptyDatabase();
    await migrateCli(migrationUrl);
    const again = await migrateCli(migrationUrl);
    expect(again).toMatchObject({ code: 0, stderr: expect.stringContaining("Nothing to migrate: the schema is up to date.") });
    expect(await recordedMigrations(migrationUrl)).toEqual(MIGRATIONS);
  });

  it("applies each migration once when two runs start at the same time (the second waits for the advisory lock)", async () => {
    const { migrationUrl } = await emptyDatabase();
    // Hold node-pg-migrate's lock so both runs are certainly waiting at once, then let them go together.
    await withClient(migrationUrl, async (holder) => {
      await holder.query("SELECT pg_advisory_lock($1)", [PG_MIGRATE_LOCK_ID]);
      const runs = Promise.all([migrateCli(migrationUrl), migrateCli(migrationUrl)]);
      const deadline = Date.now() + 30_000;
      for (let waiting = 0; waiting < 2;) {
        if (Date.now() > deadline) throw new Error(`only ${waiting} migration run(s) reached the lock within 30 s`);
        await new Promise((resolve) => setTimeout(resolve, 100));
        waiting = Number((await holder.query("SELECT count(*) AS n FROM pg_locks WHERE locktype = 'advisory' AND NOT granted")).rows[0].n);
      }
      await holder.query("SELECT pg_advisory_unlock($1)", [PG_MIGRATE_LOCK_ID]);
      const [first, second] = await runs;
      expect([first.code, second.code]).toEqual([0, 0]);
      expect([first.stderr, second.stderr].filter((e) => e.includes("Applied 5 migration(s)."))).toHaveLength(1);
      expect([first.stderr, second.stderr].filter((e) => e.includes("Nothing to migrate"))).toHaveLength(1);
    });
    expect(await recordedMigrations(migrationUrl)).toEqual(MIGRATIONS);
  });

  it("leaves nothing of a migration that fails midway, and keeps what was applied before", async () => {
    const { migrationUrl } = await emptyDatabase();
    await migrateCli(migrationUrl);
    const dir = mkdtempSync(join(tmpdir(), "pulse-migrations-"));
    try {
      cpSync(MIGRATIONS_DIR, dir, { recursive: true });
      writeFileSync(
        join(dir, "1764028800099_fails-midway.sql"),
        [
          "-- Up Migration",
          "CREATE TABLE analytics.half_done (id int);",
          "ALTER TABLE analytics.user_readiness ADD COLUMN half_done_note text;",
          "INSERT INTO analytics.half_done VALUES (1);",
          "SELECT 1 / 0;",
          "-- Down Migration",
          "DROP TABLE analytics.half_done;",
        ].join("\n"),
      );
      const run = await migrateCli(migrationUrl, ["--dir", dir]);
      expect(run.code).toBe(1);
      expect(run.stderr).toMatch(/error: PostgreSQL 22012: division by zero/);
      expect(await tablesOf(migrationUrl)).toEqual(["session_events", "user_readiness", "user_skill_agg"]);
      const columns = await withClient(migrationUrl, async (client) =>
        (
          await client.query("SELECT column_name FROM information_schema.columns WHERE table_schema = 'analytics' AND table_name = 'user_readiness'")
        ).rows.map((r) => r.column_name),
      );
      expect(columns).not.toContain("half_done_note");
      expect(await recordedMigrations(migrationUrl)).toEqual(MIGRATIONS);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it("with --dry-run prints the SQL of the pending migrations and changes no table", async () => {
    const { migrationUrl } = await emptyDatabase();
    const run = await migrateCli(migrationUrl, ["--dry-run"]);
    expect(run.code).toBe(0);
    expect(run.stdout).toContain("CREATE TABLE analytics.session_events");
    expect(run.stdout).toContain("CREATE TABLE analytics.user_readiness");
    expect(run.stderr).toContain("Dry run: 5 migration(s) would be applied; nothing was changed.");
    expect(await tablesOf(migrationUrl)).toEqual([]);
    // Not even node-pg-migrate's own bookkeeping is left behind.
    const bookkeeping = await withClient(
      migrationUrl,
      async (client) => (await client.query("SELECT to_regnamespace('analytics_migrations') AS schema")).rows[0],
    );
    expect(bookkeeping).toEqual({ schema: null });
  });

  it("says how to set PULSE_ANALYTICS_MIGRATION_DATABASE_URL when it is missing", async () => {
    const run = await runCli("db-migrate", [], { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: "" });
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toBe(
      "error: PULSE_ANALYTICS_MIGRATION_DATABASE_URL is not set: set it to the migrator role's URL (npm start prints the local one; npm run db:url -- <env> --role migrator gives a deployed one).",
    );
  });
});
