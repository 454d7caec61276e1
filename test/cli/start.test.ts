// `npm start` as a backend engineer meets it: two URLs to paste, a clean stop on Ctrl-C, data that
// survives a restart, and one clear message (with the fix) for each way starting can go wrong.

import { spawn } from "node:child_process";
import { appendFileSync, chmodSync, chownSync, existsSync, mkdirSync, readFileSync, rmSync, statSync, unlinkSync, writeFileSync } from "node:fs";
import { createServer, Server } from "node:net";
import { join } from "node:path";
import { parse } from "pg-connection-string";
import { freePort, newStateDir, removeStateDir, ROOT, runCli, startLocalDatabase, StartFailed, withClient } from "../support/local-database";

const stateDirs: string[] = [];
const newDir = () => {
  const dir = newStateDir();
  stateDirs.push(dir);
  return dir;
};
afterAll(() => stateDirs.forEach(removeStateDir));

/** Runs `npm start` expecting it to fail before printing URLs; resolves to its last stderr line. */
async function failingStart(options: { stateDir: string; port?: number }): Promise<string> {
  try {
    const db = await startLocalDatabase(options);
    await db.stop();
  } catch (error) {
    if (error instanceof StartFailed) {
      expect(error.code).toBe(1);
      return error.stderr.trim().split("\n").pop()!;
    }
    throw error;
  }
  throw new Error("expected npm start to fail");
}

describe("npm start", () => {
  const stateDir = newDir();
  let port: number;

  it("prints the app and migrator URLs of a running, migrated database, and stops cleanly on Ctrl-C", async () => {
    port = await freePort();
    const db = await startLocalDatabase({ stateDir, port });
    expect(parse(db.appUrl)).toMatchObject({ user: "pulse_analytics_app_a", host: "localhost", port: String(port), database: "pulse_analytics" });
    expect(parse(db.migrationUrl)).toMatchObject({ user: "pulse_analytics_migrator_a", database: "pulse_analytics" });
    await withClient(db.appUrl, (client) =>
      client.query(
        "INSERT INTO analytics.user_readiness (user_id, score, model_version) VALUES ('00000000-0000-4000-8000-000000000001', 71.5, 'v1')",
      ),
    );
    const stopped = await db.stop();
    expect(stopped.code).toBe(0);
    expect(stopped.stderr).toMatch(/Stopping PostgreSQL…\nPostgreSQL stopped\.\n$/);
    expect(readFileSync(join(stateDir, "postgres.log"), "utf8")).toMatch(/database system is shut down/);
  }, 180_000);

  it("reuses the data of the previous start (nothing re-created, nothing lost)", async () => {
    const db = await startLocalDatabase({ stateDir, port });
    try {
      expect(db.stderr()).toContain("Schema up to date.");
      const rows = await withClient(db.appUrl, async (client) => (await client.query("SELECT score FROM analytics.user_readiness")).rows);
      expect(rows).toEqual([{ score: "71.50" }]);

      // While it runs, a second start on the same data directory is refused.
      const message = await failingStart({ stateDir, port: await freePort() });
      expect(message).toMatch(
        /^error: a PostgreSQL server \(pid \d+\) is already running on .+\/data: use it, or stop it first \(Ctrl-C in the terminal running npm start, or kill \d+\)\.$/,
      );
    } finally {
      await db.stop();
    }
  }, 180_000);

  it("keeps its generated passwords and its server log readable by their owner only", () => {
    expect(statSync(join(stateDir, "credentials.json")).mode & 0o777).toBe(0o600);
    expect(statSync(join(stateDir, "postgres.log")).mode & 0o777).toBe(0o600);
  });

  it("exits 1 with PostgreSQL's last words when the server dies under it", async () => {
    const db = await startLocalDatabase({ stateDir, port });
    const postmaster = Number(readFileSync(join(stateDir, "data", "postmaster.pid"), "utf8").split("\n")[0]);
    process.kill(postmaster, "SIGKILL");
    const stopped = await db.exited();
    expect(stopped.code).toBe(1);
    expect(stopped.stderr).toMatch(/error: PostgreSQL exited unexpectedly\. Its last log lines \(all in .+\/postgres\.log\):/);
  }, 180_000);

  it("explains a stale lock file left by a crash whose pid now belongs to another program", async () => {
    // A program whose command line mentions postgres, but which is not PostgreSQL.
    const other = spawn("bash", ["-c", "exec -a pulse-analytics-postgres-editor sleep 60"]);
    await new Promise((resolve) => setTimeout(resolve, 200));
    const lockFile = join(stateDir, "data", "postmaster.pid");
    writeFileSync(lockFile, `${other.pid}\n${join(stateDir, "data")}\n`);
    try {
      const message = await failingStart({ stateDir, port: await freePort() });
      expect(message).toBe(
        `error: stale lock file ${lockFile}: it names pid ${other.pid}, which is now another program (pulse-analytics-postgres-editor 60), so no server is running on this data directory. Delete the file and run npm start again.`,
      );
    } finally {
      other.kill();
      if (existsSync(lockFile)) unlinkSync(lockFile);
    }
  }, 60_000);

  it("exits 1 with PostgreSQL's own complaint when the server refuses to start", async () => {
    const conf = join(stateDir, "data", "postgresql.conf");
    const original = readFileSync(conf, "utf8");
    appendFileSync(conf, "\nthis_is_not_a_setting = on\n");
    try {
      const failure = await startLocalDatabase({ stateDir, port: await freePort() }).then(
        async (db) => {
          await db.stop();
          throw new Error("expected npm start to fail");
        },
        (error: StartFailed) => error,
      );
      expect(failure.code).toBe(1);
      expect(failure.stderr).toMatch(
        /error: PostgreSQL did not start \(.*\)\. Its last words: .*unrecognized configuration parameter "this_is_not_a_setting"/,
      );
    } finally {
      writeFileSync(conf, original);
    }
  }, 60_000);

  it("says the port is in use, and how to pick another", async () => {
    const busyPort = await freePort();
    const holder: Server = createServer();
    await new Promise<void>((resolve) => holder.listen(busyPort, "127.0.0.1", resolve));
    try {
      expect(await failingStart({ stateDir: newDir(), port: busyPort })).toBe(
        `error: port ${busyPort} is in use: stop what listens there, or start on another port, e.g. PULSE_LOCAL_PG_PORT=${busyPort + 1} npm start.`,
      );
    } finally {
      holder.close();
    }
  });

  it("says a port below 1024 is not permitted (not that it is in use), and which port to use", async () => {
    const unprivilegedStart = Number(readFileSync("/proc/sys/net/ipv4/ip_unprivileged_port_start", "utf8"));
    if (unprivilegedStart <= 80) {
      console.warn(`skipped: this kernel lets any user listen on port 80 (ip_unprivileged_port_start=${unprivilegedStart})`);
      return;
    }
    const dir = newDir();
    // As root every port is permitted: run the command as nobody, as a developer's laptop would.
    const asNobody = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    if (process.getuid?.() === 0) chownSync(dir, 65534, 65534);
    const child = spawn(process.execPath, ["--import", "tsx", join("src", "cli", "start.ts"), "--dir", join(dir, "db"), "--port", "80"], {
      cwd: ROOT,
      env: { ...process.env, HOME: dir },
      stdio: ["ignore", "ignore", "pipe"],
      ...asNobody,
    });
    let stderr = "";
    child.stderr.on("data", (chunk) => (stderr += chunk));
    // As nobody, node itself may be out of reach (a Node unpacked in a 0700 folder): fail with that, not a timeout.
    const code = await new Promise<number | null>((resolve, reject) => {
      child.once("exit", resolve);
      child.once("error", (error) => reject(new Error(`cannot run ${process.execPath} as nobody: ${error.message}`)));
    });
    expect({ code, last: stderr.trim().split("\n").pop() }).toEqual({
      code: 1,
      last: "error: not permitted to listen on port 80 (ports below 1024 need extra privileges): start on another port, e.g. PULSE_LOCAL_PG_PORT=54329 npm start.",
    });
  }, 60_000);

  it("refuses a data directory of another PostgreSQL major, and says how to start fresh", async () => {
    const dir = newDir();
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "PG_VERSION"), "16\n");
    expect(await failingStart({ stateDir: dir })).toBe(
      `error: ${join(dir, "data")} holds PostgreSQL 16 data, but the local server is PostgreSQL 17. To start fresh, delete it (rm -rf ${dir}); to keep the data, dump it with PostgreSQL 16's pg_dump first.`,
    );
  });

  it("refuses data whose generated passwords are lost, and says how to start fresh", async () => {
    const dir = newDir();
    mkdirSync(join(dir, "data"));
    writeFileSync(join(dir, "data", "PG_VERSION"), "17\n");
    expect(await failingStart({ stateDir: dir })).toBe(
      `error: ${join(dir, "credentials.json")} is missing or unreadable, so the local roles' passwords are unknown. Delete ${dir} to start fresh.`,
    );
  });

  (process.getuid?.() === 0 ? it : it.skip)(
    "as root, explains a folder the postgres user cannot enter, and leaves no half-made cluster",
    async () => {
      const outer = newDir();
      const dir = join(outer, "inner");
      mkdirSync(dir);
      chmodSync(outer, 0o700);
      try {
        expect(await failingStart({ stateDir: dir })).toBe(
          `error: as root, PostgreSQL runs as user "postgres", which cannot enter ${outer} to reach the data folder (${dir}): ` +
            `allow it with chmod o+x ${outer}, or keep the project and PULSE_LOCAL_DIR in folders every user may enter (not under /root).`,
        );
        expect(existsSync(join(dir, "data"))).toBe(false);
        expect(existsSync(join(dir, "credentials.json"))).toBe(false);
      } finally {
        chmodSync(outer, 0o755);
        rmSync(dir, { recursive: true, force: true });
      }
    },
    60_000,
  );

  it("refuses a second start on a folder another npm start is using, and leaves that one's files alone (issue 10)", async () => {
    const dir = newDir();
    // What a first start holds from its first moment, also while it is still creating the cluster.
    const holder = spawn(process.execPath, ["-e", "setTimeout(() => {}, 60000)"]);
    try {
      writeFileSync(join(dir, "npm-start.pid"), `${holder.pid}\n`);
      mkdirSync(join(dir, "data"));
      writeFileSync(join(dir, "data", "being-created-by-the-first-start"), "");
      const run = await runCli("start", ["--dir", dir, "--port", String(await freePort())]);
      expect(run.code).toBe(1);
      expect(run.stderr.trim().split("\n").pop()).toBe(
        `error: another npm start (pid ${holder.pid}) is using ${dir}: use that one, stop it, or start with another folder (--dir or PULSE_LOCAL_DIR).`,
      );
      expect(existsSync(join(dir, "data", "being-created-by-the-first-start"))).toBe(true);
    } finally {
      holder.kill();
    }
  });

  it("takes over a start lock whose process is gone", async () => {
    const dir = newDir();
    writeFileSync(join(dir, "npm-start.pid"), "999999\n");
    const db = await startLocalDatabase({ stateDir: dir });
    await db.stop();
    expect(existsSync(join(dir, "npm-start.pid"))).toBe(false);
  }, 120_000);

  it("stops PostgreSQL and itself when npm's SIGTERM ends the shell it runs under (issue 10: no orphans)", async () => {
    const dir = newDir();
    const port = await freePort();
    // As npm runs a script: under `sh -c`, which does not pass a SIGTERM on.
    const shell = spawn("sh", ["-c", `"${process.execPath}" --import tsx src/cli/start.ts --dir "${dir}" --port ${port}`], {
      cwd: ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let stdout = "";
    shell.stdout.on("data", (chunk) => (stdout += chunk));
    while (!/^PULSE_ANALYTICS_DATABASE_URL=/m.test(stdout)) {
      if (shell.exitCode !== null) throw new Error("npm start exited before printing its URLs");
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    const node = Number(readFileSync(join(dir, "npm-start.pid"), "utf8"));
    const postmasterPid = join(dir, "data", "postmaster.pid");
    expect(existsSync(postmasterPid)).toBe(true);
    shell.kill("SIGTERM");
    const alive = (pid: number) => {
      try {
        process.kill(pid, 0);
        return true;
      } catch {
        return false;
      }
    };
    // Bounded by the test's timeout: PostgreSQL's clean stop removes its pid file, then the process exits.
    while (existsSync(postmasterPid) || alive(node)) await new Promise((resolve) => setTimeout(resolve, 100));
    expect(existsSync(join(dir, "npm-start.pid"))).toBe(false);
  }, 120_000);

  it("says in one line that a folder which is a file cannot hold the local database (issue 10)", async () => {
    const notAFolder = join(newDir(), "a-file");
    writeFileSync(notAFolder, "not a folder");
    const run = await runCli("start", ["--dir", notAFolder, "--port", String(await freePort())]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim().split("\n").slice(1)).toEqual([
      `error: cannot keep the local database in ${notAFolder}: it is a file, not a folder. Use another folder with --dir or PULSE_LOCAL_DIR.`,
    ]);
  });

  it("refuses a port that is not a port", async () => {
    const run = await runCli("start", [], { PULSE_LOCAL_PG_PORT: "54a", PULSE_LOCAL_DIR: newDir() });
    expect(run).toMatchObject({
      code: 1,
      stderr: 'error: invalid port (--port or PULSE_LOCAL_PG_PORT): "54a". Allowed: a whole number from 1 to 65535.\n',
    });
  });
});
