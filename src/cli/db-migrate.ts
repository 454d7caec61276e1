// `npm run db:migrate [-- --dry-run]`: applies the pending analytics migrations to the database of
// PULSE_ANALYTICS_MIGRATION_DATABASE_URL (the migrator role), or prints their SQL.

import { parseArgs } from "node:util";
import { migrate } from "../client/migrate";
import { CommandError, runCommand } from "./command";

runCommand(async () => {
  const { values } = parseArgs({ options: { "dry-run": { type: "boolean", default: false }, dir: { type: "string" } } });
  const databaseUrl = process.env.PULSE_ANALYTICS_MIGRATION_DATABASE_URL;
  if (!databaseUrl) {
    throw new CommandError(
      "PULSE_ANALYTICS_MIGRATION_DATABASE_URL is not set: set it to the migrator role's URL " +
        "(npm start prints the local one; npm run db:url -- <env> --role migrator gives a deployed one).",
    );
  }
  const dryRun = values["dry-run"];
  const applied = await migrate({
    databaseUrl,
    dryRun,
    migrationsDir: values.dir,
    log: (message) => console.error(message),
    printSql: (sql) => console.log(sql),
  });
  if (dryRun) console.error(`Dry run: ${applied.length} migration(s) would be applied; nothing was changed.`);
  else console.error(applied.length ? `Applied ${applied.length} migration(s).` : "Nothing to migrate: the schema is up to date.");
});
