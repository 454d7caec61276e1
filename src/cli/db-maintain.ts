// `npm run db:maintain`: the daily maintenance job: creates the session_events partitions of the
// current month and the next ones (default 3) ahead of time. Safe to run any number of times.

import { parseArgs } from "node:util";
import { createPool } from "../client/pool";
import { onlyRow } from "../client/rows";
import { CommandError, runCommand } from "./command";

runCommand(async () => {
  const { values } = parseArgs({ options: { "months-ahead": { type: "string", default: "3" } } });
  const monthsAhead = Number(values["months-ahead"]);
  if (!Number.isInteger(monthsAhead) || monthsAhead < 0 || monthsAhead > 120) {
    throw new CommandError(`invalid --months-ahead: ${JSON.stringify(values["months-ahead"])}. Allowed: a whole number from 0 to 120.`);
  }
  const databaseUrl = process.env.PULSE_ANALYTICS_MIGRATION_DATABASE_URL;
  if (!databaseUrl) {
    throw new CommandError("PULSE_ANALYTICS_MIGRATION_DATABASE_URL is not set: db:maintain runs as the migrator role.");
  }
  // A frozen or unreachable server fails the job instead of hanging it: 10 s to connect (the pool's
  // default), 30 s to wait for a lock, 2 minutes for the statement, on the server and on the client.
  const pool = createPool({
    connectionString: databaseUrl,
    pool: { max: 1, lock_timeout: 30_000, statement_timeout: 120_000, query_timeout: 120_000 },
  });
  try {
    const result = await pool.query<{ created: number }>("SELECT analytics.ensure_session_event_partitions($1) AS created", [monthsAhead]);
    console.error(
      `session_events partitions: ${onlyRow(result, "ensure_session_event_partitions").created} created, the next ${monthsAhead} month(s) covered.`,
    );
  } finally {
    await pool.end();
  }
});
