// Test helpers for the database tests: start the local PULSE Analytics Postgres exactly as a developer
// does (`npm start`'s entry point, in a child process, in a temporary folder on a free port), read
// the URLs it prints, run the other CLI commands, and stop it with Ctrl-C (SIGINT).

import { ChildProcess, execFile, spawn } from "node:child_process";
import { chmodSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { Client, ClientConfig } from "pg";
import type { LocalCredentials } from "../../src/local/bootstrap";

export const ROOT = join(__dirname, "..", "..");
const runFile = promisify(execFile);

export interface CommandResult {
  code: number;
  stdout: string;
  stderr: string;
}

/** Runs a CLI entry point (src/cli/<name>.ts) as `npm run` does, with `env` added. */
export async function runCli(name: string, args: string[] = [], env: Record<string, string> = {}): Promise<CommandResult> {
  try {
    const { stdout, stderr } = await runFile(process.execPath, ["--import", "tsx", join("src", "cli", `${name}.ts`), ...args], {
      cwd: ROOT,
      env: { ...process.env, ...env },
    });
    return { code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

/** A port nobody listens on right now. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const probe = createServer();
    probe.once("error", reject);
    probe.listen(0, "127.0.0.1", () => {
      const { port } = probe.address() as { port: number };
      probe.close(() => resolve(port));
    });
  });
}

/** A fresh folder the server's user can enter (as root, PostgreSQL runs as "postgres"). */
export function newStateDir(): string {
  const dir = mkdtempSync(join(tmpdir(), "pulse-local-"));
  chmodSync(dir, 0o755);
  return dir;
}

export interface RunningLocalDatabase {
  readonly stateDir: string;
  readonly port: number;
  readonly appUrl: string;
  readonly migrationUrl: string;
  readonly stderr: () => string;
  readonly credentials: () => LocalCredentials;
  /** Connection settings for a role of the local cluster. */
  config(user: string, password: string, database?: string): ClientConfig;
  /** Ctrl-C, and the exit code and output once it has stopped. */
  stop(): Promise<{ code: number | null; stderr: string }>;
  /** The exit code and output once it exits by itself. */
  exited(): Promise<{ code: number | null; stderr: string }>;
}

/** Starts `npm start`'s entry point and resolves once it has printed both URLs. */
export async function startLocalDatabase(
  options: { stateDir?: string; port?: number; tls?: { certFile: string; keyFile: string } } = {},
): Promise<RunningLocalDatabase> {
  const stateDir = options.stateDir ?? newStateDir();
  const port = options.port ?? (await freePort());
  const tlsArgs = options.tls ? ["--tls-cert", options.tls.certFile, "--tls-key", options.tls.keyFile] : [];
  const child = spawn(process.execPath, ["--import", "tsx", join("src", "cli", "start.ts"), "--dir", stateDir, "--port", String(port), ...tlsArgs], {
    cwd: ROOT,
    env: process.env,
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout.on("data", (chunk) => (stdout += chunk));
  child.stderr.on("data", (chunk) => (stderr += chunk));
  const exited = new Promise<number | null>((resolve) => child.once("exit", (code) => resolve(code)));

  const urls = await new Promise<{ appUrl: string; migrationUrl: string }>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`npm start printed no URLs within 120 s:\n${stderr}`)), 120_000);
    const check = () => {
      const app = stdout.match(/^PULSE_ANALYTICS_DATABASE_URL=(.+)$/m);
      const migration = stdout.match(/^PULSE_ANALYTICS_MIGRATION_DATABASE_URL=(.+)$/m);
      if (app && migration) {
        clearTimeout(timer);
        resolve({ appUrl: app[1], migrationUrl: migration[1] });
      }
    };
    child.stdout.on("data", check);
    void exited.then((code) => {
      clearTimeout(timer);
      reject(new StartFailed(code, stderr));
    });
  });

  return {
    stateDir,
    port,
    ...urls,
    stderr: () => stderr,
    credentials: () => JSON.parse(readFileSync(join(stateDir, "credentials.json"), "utf8")),
    config: (user, password, database = "pulse_analytics") => ({ host: "localhost", port, user, password, database }),
    stop: () => stopChild(child, exited).then((code) => ({ code, stderr })),
    exited: () => exited.then((code) => ({ code, stderr })),
  };
}

/**
 * A local database for the whole test file: started before its first test, stopped and removed after
 * its last. Read it through the returned holder (`local.db`) once the tests run.
 */
export function useLocalDatabase(options: Parameters<typeof startLocalDatabase>[0] = {}): { readonly db: RunningLocalDatabase } {
  const holder = { db: undefined as unknown as RunningLocalDatabase };
  beforeAll(async () => {
    holder.db = await startLocalDatabase(options);
  }, 180_000);
  afterAll(async () => {
    if (!holder.db) return;
    await holder.db.stop();
    removeStateDir(holder.db.stateDir);
  });
  return holder;
}

/** `npm start` exited before printing its URLs. */
export class StartFailed extends Error {
  constructor(
    public readonly code: number | null,
    public readonly stderr: string,
  ) {
    super(`npm start exited with ${code}:\n${stderr}`);
  }
}

async function stopChild(child: ChildProcess, exited: Promise<number | null>): Promise<number | null> {
  if (child.exitCode === null) child.kill("SIGINT");
  return exited;
}

/** Runs `work` with a connected client, and closes it. */
export async function withClient<T>(config: ClientConfig | string, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(typeof config === "string" ? { connectionString: config } : config);
  // A server stopped or killed while this client is between queries (the failover tests poll through
  // it during restarts) emits "error" on it; a query in flight fails with the same error, so the event
  // needs only a listener: unheard, it would end the test run.
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

/** Every user_skill_agg row as text, in key order: two snapshots are equal exactly when the aggregates are. */
export function aggregatesAsText(url: string): Promise<string> {
  return withClient(url, async (c) =>
    JSON.stringify(
      (
        await c.query(
          "SELECT user_id, skill, event_count, score_sum, score_sum_squares, first_occurred_at, last_occurred_at, last_event_id, last_score FROM analytics.user_skill_agg ORDER BY 1, 2",
        )
      ).rows,
    ),
  );
}

/** Removes a state folder (its data/ belongs to "postgres" when tests run as root; rm as root can). */
export function removeStateDir(dir: string): void {
  rmSync(dir, { recursive: true, force: true });
}
