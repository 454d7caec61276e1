// `npm run db:bootstrap-sql`: prints the local bootstrap as a psql script (roles, database, grants,
// default privileges) from the role model; docker/initdb/bootstrap.sql is this output, committed.

import { parseArgs } from "node:util";
import { psqlBootstrapScript } from "../db/bootstrap-sql";
import { runCommand } from "./command";

runCommand(async () => {
  const { values } = parseArgs({ options: { database: { type: "string", default: "pulse_analytics" } } });
  process.stdout.write(psqlBootstrapScript({ databaseName: values.database }));
});
