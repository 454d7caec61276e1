// createPool/poolConfig: the backend's one way to connect. TLS is verify-full against the CA bundle,
// IAM tokens replace the password when asked, and a bad setting is one message that shows no secret.

import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createPool, poolConfig } from "../../src/client/pool";

let dir: string;
let ca: string;
beforeAll(() => {
  dir = mkdtempSync(join(tmpdir(), "pulse-pool-"));
  ca = join(dir, "ca.pem");
  writeFileSync(ca, "-----BEGIN CERTIFICATE-----\nTEST\n-----END CERTIFICATE-----\n");
});
afterAll(() => rmSync(dir, { recursive: true, force: true }));

const URL_WITH_TLS = () =>
  `postgresql://pulse_analytics_app:p%40ss%3Aw0rd@db.example.internal:5432/pulse_analytics?sslmode=verify-full&sslrootcert=${encodeURIComponent(ca)}`;

describe("poolConfig", () => {
  it("gives up connecting after 10 s and keeps idle connections alive by default, and lets a setting override either", () => {
    const url = "postgresql://pulse_analytics_app:pw@localhost:54329/pulse_analytics";
    expect(poolConfig({ connectionString: url }, {})).toMatchObject({ connectionTimeoutMillis: 10_000, keepAlive: true });
    expect(poolConfig({ connectionString: url, pool: { connectionTimeoutMillis: 2_000 } }, {}).connectionTimeoutMillis).toBe(2_000);
  });

  it("reads PULSE_ANALYTICS_DATABASE_URL, decoding every component", () => {
    const config = poolConfig({}, { PULSE_ANALYTICS_DATABASE_URL: URL_WITH_TLS() });
    expect(config).toMatchObject({
      host: "db.example.internal",
      port: 5432,
      database: "pulse_analytics",
      user: "pulse_analytics_app",
      password: "p@ss:w0rd",
    });
  });

  it("verifies the server against the URL's sslrootcert (verify-full: CA and host name)", () => {
    const config = poolConfig({ connectionString: URL_WITH_TLS() }, {});
    expect(config.ssl).toMatchObject({ ca: expect.stringContaining("BEGIN CERTIFICATE") });
    expect((config.ssl as { rejectUnauthorized?: boolean }).rejectUnauthorized).not.toBe(false);
    expect((config.ssl as { checkServerIdentity?: unknown }).checkServerIdentity).toBeUndefined();
  });

  it("uses PULSE_ANALYTICS_DB_CA_FILE only for a URL that says nothing about TLS, and no TLS at all for a local URL without either", () => {
    const url = "postgresql://pulse_analytics_app:pw@localhost:54329/pulse_analytics";
    expect(poolConfig({ connectionString: url }, { PULSE_ANALYTICS_DB_CA_FILE: ca }).ssl).toMatchObject({
      ca: expect.any(String),
      rejectUnauthorized: true,
    });
    expect(poolConfig({ connectionString: url }, {}).ssl).toBeUndefined();
    // npm start's URL with a deployed environment's CA in the shell: still plain, as the URL says.
    expect(poolConfig({ connectionString: `${url}?sslmode=disable` }, { PULSE_ANALYTICS_DB_CA_FILE: ca }).ssl).toBe(false);
    // The URL's own sslrootcert wins over the variable.
    const other = join(dir, "other.pem");
    writeFileSync(other, "OTHER");
    expect(
      poolConfig({ connectionString: `${url}?sslmode=verify-full&sslrootcert=${encodeURIComponent(other)}` }, { PULSE_ANALYTICS_DB_CA_FILE: ca }).ssl,
    ).toMatchObject({ ca: "OTHER" });
  });

  it("lets the caFile setting override the URL's", () => {
    expect(poolConfig({ connectionString: URL_WITH_TLS(), caFile: ca }, {}).ssl).toMatchObject({
      ca: expect.stringContaining("BEGIN CERTIFICATE"),
      rejectUnauthorized: true,
    });
  });

  it("takes discrete settings instead of a URL", () => {
    expect(poolConfig({ host: "localhost", port: 6543, database: "pulse_analytics", user: "u", password: "p" }, {})).toMatchObject({
      host: "localhost",
      port: 6543,
      user: "u",
      password: "p",
    });
  });

  it("with IAM, gets a fresh RDS auth token for each connection instead of a password", async () => {
    const saved = { ...process.env };
    Object.assign(process.env, {
      AWS_ACCESS_KEY_ID: "AKIAPULSETESTKEY0001",
      AWS_SECRET_ACCESS_KEY: "test-secret",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: "true",
    });
    try {
      const config = poolConfig({ connectionString: URL_WITH_TLS().replace(":p%40ss%3Aw0rd", ""), iam: { region: "eu-central-1" } }, {});
      expect(typeof config.password).toBe("function");
      const token = await (config.password as () => Promise<string>)();
      expect(token).toMatch(
        /^db\.example\.internal:5432\/\?Action=connect&DBUser=pulse_analytics_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=[0-9a-f]{64}/,
      );
    } finally {
      process.env = saved;
    }
  });

  it.each([
    [
      {},
      {},
      "PULSE_ANALYTICS_DATABASE_URL is not set: set it (npm start prints the local one, npm run db:url -- <env> a deployed one) or pass host, database and user.",
    ],
    [
      { connectionString: "postgresql://app:pw@localhost/db", caFile: "/nonexistent/ca.pem" },
      {},
      'CA bundle /nonexistent/ca.pem does not exist: download it (see README, "TLS") or fix PULSE_ANALYTICS_DB_CA_FILE.',
    ],
    [
      { connectionString: "postgresql://app:pw@localhost/db?sslmode=verify-full&sslrootcert=/nonexistent/ca.pem" },
      {},
      'the URL\'s sslrootcert /nonexistent/ca.pem does not exist: download the CA bundle (see README, "TLS") or fix the path.',
    ],
    [
      { connectionString: "postgresql://app:pw@localhost/db", iam: { region: "eu-central-1" } },
      {},
      "RDS IAM authentication needs TLS: give a CA bundle (caFile or PULSE_ANALYTICS_DB_CA_FILE) or sslmode=verify-full in the URL.",
    ],
    [
      { connectionString: "postgresql://app:s3cr3t-pw@[not a host/db" },
      {},
      "the database URL is not a valid postgresql:// URL (its text is not shown: it may hold a password).",
    ],
  ])("refuses %j with one message that shows no password", (settings, env, message) => {
    expect(() => poolConfig(settings, env)).toThrow(message);
  });
});

describe("poolConfig with credentials from a secret (credentialsSecret)", () => {
  const SECRET = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics-prod/pulse_analytics_app-AbCdEf";
  const URL = "postgresql://pulse_analytics_app_a:pw@db.example.internal:5432/pulse_analytics";

  it("takes user and password from the secret, through a client class that reads it before connecting, and the rest from the URL", () => {
    const config = poolConfig({ connectionString: URL, credentialsSecret: { secretArn: SECRET } }, {});
    expect(config).toMatchObject({ host: "db.example.internal", port: 5432, database: "pulse_analytics" });
    expect(config.user).toBeUndefined();
    expect(config.password).toBeUndefined();
    expect(config.Client).toEqual(expect.any(Function));
  });

  it("reads PULSE_ANALYTICS_DATABASE_SECRET_ARN only with the URL from the environment, never for a URL given in code", () => {
    const env = { PULSE_ANALYTICS_DATABASE_URL: URL, PULSE_ANALYTICS_DATABASE_SECRET_ARN: SECRET };
    expect(poolConfig({}, env).Client).toEqual(expect.any(Function));
    const given = poolConfig({ connectionString: URL }, env);
    expect(given).toMatchObject({ user: "pulse_analytics_app_a", password: "pw" });
    expect(given.Client).toBeUndefined();
  });

  it.each([
    [
      { credentialsSecret: { secretArn: "pulse-analytics-prod/pulse_analytics_app" } },
      {},
      'credentialsSecret.secretArn "pulse-analytics-prod/pulse_analytics_app" is not a Secrets Manager secret ARN',
    ],
    [
      {},
      { PULSE_ANALYTICS_DATABASE_URL: URL, PULSE_ANALYTICS_DATABASE_SECRET_ARN: "arn:aws:s3:::bucket" },
      'PULSE_ANALYTICS_DATABASE_SECRET_ARN "arn:aws:s3:::bucket" is not a Secrets Manager secret ARN',
    ],
    [
      { credentialsSecret: { secretArn: SECRET, cacheTtlMs: -1 } },
      {},
      "credentialsSecret.cacheTtlMs -1 is not allowed: give milliseconds, 0 or more",
    ],
    [
      { credentialsSecret: { secretArn: SECRET }, iam: { region: "eu-central-1" }, caFile: "" },
      {},
      "credentialsSecret and iam are two ways to sign in",
    ],
  ])("refuses %j (environment %j) naming the setting", (settings, env, message) => {
    // Settings without a URL take it from the environment.
    const url = "PULSE_ANALYTICS_DATABASE_URL" in env ? {} : { connectionString: `${URL}?sslmode=require` };
    expect(() => poolConfig({ ...url, ...settings }, env)).toThrow(message);
  });
});

describe("createPool", () => {
  it("builds a pg Pool without connecting", async () => {
    const pool = createPool({ connectionString: "postgresql://app:pw@localhost:1/db" });
    expect(pool.totalCount).toBe(0);
    await pool.end();
  });
});
