// Password rotation without a window of failed connections, proven on a real local database: a pool
// that reads its credentials from the role's secret (createPool's credentialsSecret, through the real
// AWS SDK against a local Secrets Manager stand-in) keeps every connection working under steady load
// while the role is rotated the way a deploy does it (role-model.ts, PASSWORD_SLOTS).

import { randomBytes } from "node:crypto";
import { Client } from "pg";
import { createPool } from "../../src/client/pool";
import { activeSlot, slotPasswordGeneration, slotRoleName } from "../../src/roles/role-model";
import { FakeSecret, FakeSecretsManager, startFakeSecretsManager } from "../support/fake-secrets-manager";
import { useLocalDatabase } from "../support/local-database";

const local = useLocalDatabase();
const SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics-dev/pulse_analytics_app-AbCdEf";
const secrets: Record<string, FakeSecret> = {};
let secretsManager: FakeSecretsManager;
const savedEnv = { ...process.env };

beforeAll(async () => {
  secretsManager = await startFakeSecretsManager(secrets);
  // The pool reads the secret in this process, with the SDK's standard configuration.
  Object.assign(process.env, secretsManager.env());
}, 30_000);
afterAll(async () => {
  process.env = savedEnv;
  await secretsManager?.close();
});

/** The database as the deploy changes it: the admin (the RDS master's stand-in) sets a slot's password. */
async function setSlotPassword(user: string, password: string): Promise<void> {
  const client = new Client(local.db.config("pulse_admin", local.db.credentials().admin, "postgres"));
  await client.connect();
  try {
    await client.query(`ALTER ROLE ${client.escapeIdentifier(user)} PASSWORD ${client.escapeLiteral(password)}`);
  } finally {
    await client.end();
  }
}

const putSecret = (username: string, password: string) => {
  secrets[SECRET_ARN] = { secretString: JSON.stringify({ engine: "postgres", username, password, dbname: "pulse_analytics" }) };
};

/**
 * One rotation as `terraform apply` runs it after passwordRotations.app goes from `rotations - 1` to
 * `rotations`: the newly active slot's random_password is replaced and set on its role, and only then
 * (depends_on) the secret version names it. The slot active before keeps its password.
 */
async function rotate(rotations: number, passwords: Map<string, string>): Promise<string> {
  const slot = activeSlot(rotations);
  const user = slotRoleName("app", slot);
  expect(slotPasswordGeneration(slot, rotations)).not.toBe(slotPasswordGeneration(slot, rotations - 1));
  const password = randomBytes(24).toString("base64url");
  await setSlotPassword(user, password);
  // Terraform's apply takes seconds between the role's update and PutSecretValue; so does this.
  await sleep(300);
  putSecret(user, password);
  passwords.set(user, password);
  return user;
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

/** Runs `workers` loops of one-query connections until `until` settles; counts what happens. */
function steadyLoad(pool: ReturnType<typeof createPool>, workers: number, until: Promise<unknown>) {
  const seen = new Map<string, number>();
  const failures: string[] = [];
  let done = false;
  void until.finally(() => (done = true));
  const loop = async () => {
    while (!done) {
      try {
        const { rows } = await pool.query<{ user: string }>("SELECT current_user AS user");
        seen.set(rows[0].user, (seen.get(rows[0].user) ?? 0) + 1);
      } catch (error) {
        failures.push(`${(error as { code?: string }).code ?? "no code"}: ${(error as Error).message}`);
      }
    }
  };
  const finished = Promise.all(Array.from({ length: workers }, loop));
  return { seen, failures, finished };
}

describe("a pool reading its credentials from the role's secret (credentialsSecret)", () => {
  // maxUses 1: every query opens a new connection, so each one signs in again with what the pool knows.
  const newPool = (cacheTtlMs: number) =>
    createPool({
      connectionString: `postgresql://localhost:${local.db.port}/pulse_analytics`,
      credentialsSecret: { secretArn: SECRET_ARN, cacheTtlMs },
      pool: { max: 4, maxUses: 1 },
      onIdleConnectionLost: () => undefined,
    });

  it("signs in as the slot and password the secret names, with no user or password in the URL", async () => {
    putSecret(slotRoleName("app", "a"), local.db.credentials().app);
    const pool = newPool(60_000);
    try {
      expect((await pool.query("SELECT current_user AS user")).rows[0].user).toBe("pulse_analytics_app_a");
    } finally {
      await pool.end();
    }
  }, 30_000);

  it("sees zero failed connections under steady load through four rotations (a → b → a → b → a)", async () => {
    const passwords = new Map([[slotRoleName("app", "a"), local.db.credentials().app]]);
    putSecret(slotRoleName("app", "a"), local.db.credentials().app);
    const cacheTtlMs = 250;
    const pool = newPool(cacheTtlMs);
    const running: { load?: ReturnType<typeof steadyLoad> } = {};
    /** Waits until the load has signed in as `user` a few times since `before` (no fixed sleep: a busy machine is slow). */
    const servedAs = async (user: string, before: number) => {
      while ((running.load?.seen.get(user) ?? 0) < before + 20) await sleep(20);
    };
    const rotationsDone = (async () => {
      const users: string[] = [];
      await servedAs("pulse_analytics_app_a", 0);
      for (let rotations = 1; rotations <= 4; rotations++) {
        const next = slotRoleName("app", activeSlot(rotations));
        const before = running.load?.seen.get(next) ?? 0;
        users.push(await rotate(rotations, passwords));
        // Every cached read has expired and the pool signs in as the new slot before the next rotation.
        await servedAs(next, before);
        await sleep(cacheTtlMs * 2);
      }
      return users;
    })();
    const load = (running.load = steadyLoad(pool, 4, rotationsDone));
    try {
      const users = await rotationsDone;
      await load.finished;
      expect(load.failures).toEqual([]);
      expect(users).toEqual(["pulse_analytics_app_b", "pulse_analytics_app_a", "pulse_analytics_app_b", "pulse_analytics_app_a"]);
      // Both slots served connections: the load really went through the rotations.
      expect(load.seen.get("pulse_analytics_app_a")).toBeGreaterThan(0);
      expect(load.seen.get("pulse_analytics_app_b")).toBeGreaterThan(0);
    } finally {
      await pool.end();
      // Both slots back on the local password, for the tests that follow.
      for (const slot of ["a", "b"] as const) await setSlotPassword(slotRoleName("app", slot), local.db.credentials().app);
    }
  }, 120_000);

  // The control: the same load through the rotation this replaces (one login role whose password is
  // changed in place, as replacing a random_password did) fails connections, so the proof above can fail.
  it("fails connections under the same load when the password in use is changed in place instead", async () => {
    const user = slotRoleName("app", "a");
    putSecret(user, local.db.credentials().app);
    const pool = newPool(250);
    let failuresBeforeChange = -1;
    const running: { load?: ReturnType<typeof steadyLoad> } = {};
    const changed = (async () => {
      while ((running.load?.seen.get(user) ?? 0) < 20) await sleep(20);
      failuresBeforeChange = running.load!.failures.length;
      const password = randomBytes(24).toString("base64url");
      await setSlotPassword(user, password);
      await sleep(300);
      putSecret(user, password);
      await sleep(1_000);
    })();
    const load = (running.load = steadyLoad(pool, 4, changed));
    try {
      await changed;
      await load.finished;
      // It worked until the change, and failed from it.
      expect(failuresBeforeChange).toBe(0);
      expect(load.failures.length).toBeGreaterThan(0);
      expect(load.failures.every((f) => f.startsWith("28P01"))).toBe(true);
    } finally {
      await pool.end();
      // Back to the local password the other tests expect.
      await setSlotPassword(user, local.db.credentials().app);
    }
  }, 60_000);

  it("reads the secret again at once after the server refuses what it holds, instead of waiting out the cache", async () => {
    const user = slotRoleName("app", "b");
    await setSlotPassword(user, local.db.credentials().app);
    putSecret(user, local.db.credentials().app);
    const pool = newPool(3_600_000);
    try {
      expect((await pool.query("SELECT current_user AS user")).rows[0].user).toBe(user);
      // Two rotations at once (the runbook warns against it): the cached password is gone too.
      const password = randomBytes(24).toString("base64url");
      await setSlotPassword(user, password);
      putSecret(user, password);
      const reads = secretsManager.requests.length;
      await expect(pool.query("SELECT 1")).rejects.toMatchObject({ code: "28P01" });
      expect((await pool.query("SELECT current_user AS user")).rows[0].user).toBe(user);
      expect(secretsManager.requests.length).toBe(reads + 1);
    } finally {
      await pool.end();
      await setSlotPassword(user, local.db.credentials().app);
    }
  }, 30_000);

  it("gives up on a secret read slower than the pool's connectionTimeoutMillis, and opens no connection after it", async () => {
    secrets[SECRET_ARN] = {
      ...secrets[SECRET_ARN],
      secretString: JSON.stringify({ username: "pulse_analytics_app_a", password: local.db.credentials().app }),
      delayMs: 1_500,
    };
    const pool = createPool({
      connectionString: `postgresql://localhost:${local.db.port}/pulse_analytics`,
      credentialsSecret: { secretArn: SECRET_ARN },
      pool: { max: 1, connectionTimeoutMillis: 300 },
      onIdleConnectionLost: () => undefined,
    });
    const sessions = async () => {
      const client = new Client(local.db.config("pulse_admin", local.db.credentials().admin, "postgres"));
      await client.connect();
      try {
        return Number((await client.query("SELECT count(*) AS n FROM pg_stat_activity WHERE usename = 'pulse_analytics_app_a'")).rows[0].n);
      } finally {
        await client.end();
      }
    };
    try {
      const before = await sessions();
      await expect(pool.query("SELECT 1")).rejects.toThrow(/connection timeout/);
      // The read answers later; the client the pool gave up on must not connect then.
      await sleep(2_000);
      expect(await sessions()).toBe(before);
    } finally {
      await pool.end();
      secrets[SECRET_ARN] = { secretString: JSON.stringify({ username: "pulse_analytics_app_a", password: local.db.credentials().app }) };
    }
  }, 30_000);

  it("fails a query with one line naming the secret when the secret cannot be read, and shows no password", async () => {
    secrets[SECRET_ARN] = { error: "AccessDeniedException" };
    const pool = newPool(60_000);
    try {
      await expect(pool.query("SELECT 1")).rejects.toThrow(
        `access denied reading secret ${SECRET_ARN}: the caller needs secretsmanager:GetSecretValue on it and kms:Decrypt on its KMS key.`,
      );
    } finally {
      await pool.end();
    }
  }, 30_000);
});
