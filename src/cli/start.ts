// `npm start`: a local PULSE Analytics Postgres for backend development, with no Docker and no cloud
// account: embedded PostgreSQL, bootstrapped with the cloud's roles and grants, migrated, and the
// two connection URLs printed. Runs until Ctrl-C, then stops PostgreSQL cleanly.

import { parseArgs } from "node:util";
import { bootstrapLocalDatabase } from "../local/bootstrap";
import { buildPostgresUrl } from "../client/connection-url";
import { LOCAL_POSTGRES_MAJOR, LOCAL_SUPERUSER, LocalPostgres } from "../local/local-postgres";
import { migrate } from "../client/migrate";
import { DEFAULT_DATABASE_NAME, loginRole, slotRoleName } from "../roles/role-model";
import { CommandError, parsePort, runCommand } from "./command";

const DEFAULT_LOCAL_DIR = ".pulse-local";
const DEFAULT_LOCAL_PORT = 54329;
const DATABASE_NAME = DEFAULT_DATABASE_NAME;
const HOST = "localhost";

runCommand(async () => {
  const { values } = parseArgs({
    options: { dir: { type: "string" }, port: { type: "string" }, "tls-cert": { type: "string" }, "tls-key": { type: "string" } },
  });
  const stateDir = values.dir ?? process.env.PULSE_LOCAL_DIR ?? DEFAULT_LOCAL_DIR;
  const port = parsePort("port (--port or PULSE_LOCAL_PG_PORT)", values.port ?? process.env.PULSE_LOCAL_PG_PORT, DEFAULT_LOCAL_PORT);

  console.error(`Starting PostgreSQL ${LOCAL_POSTGRES_MAJOR} (data in ${stateDir}/data, port ${port})…`);
  const certFile = values["tls-cert"] ?? process.env.PULSE_LOCAL_TLS_CERT_FILE;
  const keyFile = values["tls-key"] ?? process.env.PULSE_LOCAL_TLS_KEY_FILE;
  if (Boolean(certFile) !== Boolean(keyFile)) {
    throw new CommandError(
      "TLS needs both a certificate and its key: pass --tls-cert and --tls-key (or PULSE_LOCAL_TLS_CERT_FILE and PULSE_LOCAL_TLS_KEY_FILE).",
    );
  }
  const tls = certFile && keyFile ? { certFile, keyFile } : undefined;
  const server = await LocalPostgres.start({ stateDir, port, tls });
  // The library's own handlers stop its servers and exit 130 even after a clean stop; this command
  // stops its server itself, says so, and exits 0 once it is up, 130 if interrupted while setting up.
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.removeAllListeners(signal);
  let up = false;
  let stopping = false;
  const stop = async () => {
    if (stopping) {
      // A second Ctrl-C: the user has waited enough.
      console.error("Stopping anyway; PostgreSQL may need crash recovery on the next start.");
      process.exit(1);
    }
    stopping = true;
    console.error("Stopping PostgreSQL…");
    try {
      await server.stop();
    } catch (error) {
      console.error(`error: ${(error as Error).message}`);
      process.exit(1);
    }
    console.error("PostgreSQL stopped.");
    process.exit(up ? 0 : 130);
  };
  for (const signal of ["SIGINT", "SIGTERM", "SIGHUP"] as const) process.on(signal, () => void stop());
  // `npm start` runs this under `sh -c`, and npm's SIGTERM ends the shell without passing it on: this
  // process would be left running, PostgreSQL with it. Once its parent is gone it is adopted by
  // another (the ppid changes), and stops as if told to.
  const parent = process.ppid;
  setInterval(() => {
    if (process.ppid !== parent) {
      console.error("The process that started npm start is gone.");
      void stop();
    }
  }, 1000).unref();
  server.onUnexpectedExit((lastWords) => {
    console.error(`error: PostgreSQL exited unexpectedly. Its last log lines (all in ${stateDir}/postgres.log):\n${lastWords}`);
    process.exit(1);
  });

  const { credentials } = server;
  const url = (user: string, password: string) => buildPostgresUrl({ user, password, host: HOST, port, database: DATABASE_NAME });
  const appUrl = url(slotRoleName("app", "a"), credentials.app);
  const migrationUrl = url(slotRoleName("migrator", "a"), credentials.migrator);
  try {
    await bootstrapLocalDatabase({ host: HOST, port, superuser: LOCAL_SUPERUSER, databaseName: DATABASE_NAME, credentials });
    const applied = await migrate({ databaseUrl: migrationUrl });
    console.error(applied.length ? `Applied migrations: ${applied.join(", ")}` : "Schema up to date.");
  } catch (error) {
    await server.stop().catch(() => undefined);
    throw error;
  }

  console.error("\nPULSE Analytics Postgres is up. Put these in the backend's environment (.env):");
  console.log(`${loginRole("app").urlVariable}=${appUrl}`);
  console.log(`${loginRole("migrator").urlVariable}=${migrationUrl}`);
  console.error("Press Ctrl-C to stop.");
  up = true;
});
