// `npm run db:bootstrap-sql`: the local bootstrap as a psql script (roles, database, grants, default
// privileges) from the role model, on stdout or, with --out FILE, into that file; docker/bootstrap.sql
// is this output, committed. --out exists because `npm run x > file` also captures npm's banner lines.

import { renameSync, rmSync, writeFileSync } from "node:fs";
import { basename, dirname, join } from "node:path";
import { parseArgs } from "node:util";
import { psqlBootstrapScript } from "../roles/bootstrap-sql";
import { DEFAULT_DATABASE_NAME } from "../roles/role-model";
import { CommandError, runCommand } from "./command";

runCommand(() => {
  const { values } = parseArgs({ options: { database: { type: "string", default: DEFAULT_DATABASE_NAME }, out: { type: "string" } } });
  const script = psqlBootstrapScript({ databaseName: values.database });
  if (values.out === undefined) {
    process.stdout.write(script);
    return;
  }
  // Beside the target, then renamed over it: the file is the old script or the new one, never part of one.
  const temporary = join(dirname(values.out), `.${basename(values.out)}.${process.pid}.tmp`);
  try {
    writeFileSync(temporary, script);
    renameSync(temporary, values.out);
  } catch (error) {
    rmSync(temporary, { force: true });
    throw new CommandError(
      `cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}. Pass --out a file in a folder that exists.`,
    );
  }
  console.error(`wrote ${values.out}`);
});
