// Runs the analytics schema's migrations (src/client/migrations, SQL, node-pg-migrate) as the migrator,
// acting as pulse_analytics_owner so that everything migrations create is owned by the owner and the
// role model's default privileges reach it. One transaction for all pending migrations, under
// node-pg-migrate's session advisory lock: concurrent runs wait and apply each migration once.

import { join } from "node:path";
import { createPool } from "./pool";
import { ANALYTICS_SCHEMA, role } from "../roles/role-model";

/** Where applied migrations are recorded: a schema of its own, which app and readonly cannot see. */
const MIGRATIONS_SCHEMA = "analytics_migrations";
const MIGRATIONS_TABLE = "pgmigrations";
export const MIGRATIONS_DIR = join(__dirname, "migrations");

export interface MigrateOptions {
  /** A direct connection (not a transaction pooler): the advisory lock is per session. */
  readonly databaseUrl: string;
  /** Print the SQL of the pending migrations instead of applying it. */
  readonly dryRun?: boolean;
  /** @default src/client/migrations */
  readonly migrationsDir?: string;
  /** Progress messages. @default nothing */
  readonly log?: (message: string) => void;
  /** The SQL of each migration, in a dry run. @default nothing */
  readonly printSql?: (sql: string) => void;
}

/** Applies the pending migrations and returns their names (empty when there was nothing to do). */
export async function migrate(options: MigrateOptions): Promise<string[]> {
  // node-pg-migrate 9 is ESM-only: import() it from this CommonJS module.
  const { runner } = await import("node-pg-migrate");
  const log = options.log ?? (() => undefined);
  // One connection from the same pool factory the backend uses (TLS, CA bundle, IAM), held for the whole run.
  // A frozen or unreachable server fails the run instead of hanging it: 10 s to connect (the pool's
  // default), 5 minutes to wait for a lock (another run's advisory lock included: concurrent runs
  // still wait for each other), 30 minutes for the whole run's statements on the client's side.
  const pool = createPool({
    connectionString: options.databaseUrl,
    pool: { max: 1, lock_timeout: 300_000, query_timeout: 1_800_000 },
  });
  const client = await pool.connect();
  const dryRun = options.dryRun ?? false;
  try {
    await client.query(`SET ROLE ${role("owner").name}`);
    // node-pg-migrate creates its bookkeeping schema and table even in a dry run: do the whole dry run
    // inside a transaction that is rolled back, and let no BEGIN/COMMIT of its own end that transaction.
    if (dryRun) await client.query("BEGIN");
    const applied = await runner({
      dbClient: client,
      dir: options.migrationsDir ?? MIGRATIONS_DIR,
      schema: ANALYTICS_SCHEMA,
      migrationsSchema: MIGRATIONS_SCHEMA,
      createMigrationsSchema: true,
      migrationsTable: MIGRATIONS_TABLE,
      direction: "up",
      checkOrder: true,
      singleTransaction: !dryRun,
      advisoryLockMode: "wait",
      dryRun,
      // node-pg-migrate hands each migration's SQL to logger.debug, and keeps debug only when verbose.
      verbose: dryRun,
      logger: {
        info: log,
        warn: log,
        error: log,
        debug: dryRun ? (options.printSql ?? (() => undefined)) : undefined,
      },
    });
    return applied.map((migration) => migration.name);
  } finally {
    if (dryRun) await client.query("ROLLBACK");
    client.release();
    await pool.end();
  }
}
