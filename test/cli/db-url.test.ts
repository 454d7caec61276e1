// `npm run db:url` end to end: stack outputs (cdktf's or terraform's file) and a role's secret from a
// Secrets Manager stand-in reached by the real AWS SDK, into every output format; each bad input gives
// one line and writes nothing; --check connects over verify-full TLS to a real local PostgreSQL.

import { execFileSync } from "node:child_process";
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { parse as parseDotenv } from "dotenv";
import { parse as parseConnection } from "pg-connection-string";
import { parse as parseYaml } from "yaml";
import { FakeSecretsManager, startFakeSecretsManager, TEST_ACCESS_KEY_ID } from "../support/fake-secrets-manager";
import { removeStateDir, runCli, RunningLocalDatabase, startLocalDatabase, withClient } from "../support/local-database";
import { makeTestCertificates, opensslAvailable } from "../support/tls";

const HOST = "pulse-analytics-prod.c0ffee123456.eu-central-1.rds.amazonaws.com";
const arn = (name: string) => `arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics-prod/${name}-AbCdEf`;
/** Every printable ASCII character that is not a letter or digit, and some that are. */
const NASTY_PASSWORD = ` !"#$%&'()*+,-./:;<=>?@[\\]^_\`{|}~Ab9`;

const OUTPUTS = {
  pulse_analytics_db_host: HOST,
  pulse_analytics_db_port: 5432,
  pulse_analytics_db_name: "pulse_analytics",
  pulse_analytics_db_user: "pulse_analytics_app",
  pulse_analytics_db_endpoint: `${HOST}:5432`,
  pulse_analytics_db_master_secret_arn: arn("rds-master"),
  pulse_analytics_db_app_secret_arn: arn("pulse_analytics_app"),
  pulse_analytics_db_migrator_secret_arn: arn("pulse_analytics_migrator"),
  pulse_analytics_db_readonly_secret_arn: arn("pulse_analytics_readonly"),
  pulse_analytics_db_security_group_id: "sg-0a1b2c3d4e5f60718",
};

const rdsSecret = (username: string, password: string) =>
  JSON.stringify({
    engine: "postgres",
    host: HOST,
    port: 5432,
    dbname: "pulse_analytics",
    username,
    password,
    dbInstanceIdentifier: "pulse-analytics-prod",
  });

let fake: FakeSecretsManager;
let dir: string;
let caFile: string;
const file = (name: string) => join(dir, name);

/** Writes an outputs file in cdktf's shape ({ stack: { name: value } }) with `overrides` for prod. */
function cdktfOutputs(name: string, overrides: Record<string, unknown> = {}): string {
  writeFileSync(file(name), JSON.stringify({ dev: { ...OUTPUTS, pulse_analytics_db_host: "dev-host" }, prod: { ...OUTPUTS, ...overrides } }));
  return file(name);
}

/** The same in terraform output -json's shape ({ name: { value, type, sensitive } }). */
function terraformOutputs(name: string): string {
  const entries = Object.entries(OUTPUTS).map(([k, v]) => [k, { sensitive: false, type: typeof v === "number" ? "number" : "string", value: v }]);
  writeFileSync(file(name), JSON.stringify(Object.fromEntries(entries)));
  return file(name);
}

const dbUrl = (args: string[], env: Record<string, string> = {}) => runCli("db-url", args, fake.env({ PULSE_ANALYTICS_DB_CA_FILE: "", ...env }));

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), "pulse-db-url-"));
  caFile = file("rds-global-bundle.pem");
  writeFileSync(caFile, "-----BEGIN CERTIFICATE-----\nTUlJ(test bundle)\n-----END CERTIFICATE-----\n");
  fake = await startFakeSecretsManager({
    [arn("pulse_analytics_app")]: { secretString: rdsSecret("pulse_analytics_app", NASTY_PASSWORD) },
    [arn("pulse_analytics_migrator")]: { secretString: rdsSecret("pulse_analytics_migrator", "migrator-Pw-1") },
    [arn("pulse_analytics_readonly")]: { secretString: rdsSecret("pulse_analytics_readonly", "readonly-Pw-1") },
    [arn("malformed")]: { secretString: "username=app password=hunter2" },
    [arn("no-password")]: { secretString: JSON.stringify({ username: "pulse_analytics_app" }) },
    [arn("denied")]: { error: "AccessDeniedException" },
  });
});

afterAll(async () => {
  await fake?.close();
  rmSync(dir, { recursive: true, force: true });
});

describe("the URL", () => {
  it("gives back the exact user, password (every printable ASCII special character), host, port and database", async () => {
    const run = await dbUrl(["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile]);
    expect(run.code).toBe(0);
    const url = parseDotenv(run.stdout).PULSE_ANALYTICS_DATABASE_URL;
    expect(parseConnection(url)).toMatchObject({
      user: "pulse_analytics_app",
      password: NASTY_PASSWORD,
      host: HOST,
      port: "5432",
      database: "pulse_analytics",
    });
    expect(new URL(url).searchParams.get("sslmode")).toBe("verify-full");
    expect(new URL(url).searchParams.get("sslrootcert")).toBe(caFile);
  });

  it("is the same from cdktf's outputs file and from terraform output -json", async () => {
    const fromCdktf = await dbUrl(["prod", "--outputs", cdktfOutputs("cdktf.json"), "--ca-file", caFile]);
    const fromTerraform = await dbUrl(["prod", "--outputs", terraformOutputs("terraform.json"), "--ca-file", caFile]);
    expect(fromTerraform.code).toBe(0);
    expect(fromTerraform.stdout).toBe(fromCdktf.stdout);
  });

  it("reads the secret through the real SDK: GetSecretValue, signed with the configured credentials", async () => {
    fake.requests.length = 0;
    await dbUrl(["prod", "--outputs", cdktfOutputs("outputs.json"), "--role", "migrator", "--ca-file", caFile]);
    expect(fake.requests).toEqual([
      { target: "secretsmanager.GetSecretValue", secretId: arn("pulse_analytics_migrator"), accessKeyId: TEST_ACCESS_KEY_ID },
    ]);
  });

  it("takes the CA bundle from PULSE_ANALYTICS_DB_CA_FILE when --ca-file is absent", async () => {
    const run = await dbUrl(["prod", "--outputs", cdktfOutputs("outputs.json")], { PULSE_ANALYTICS_DB_CA_FILE: caFile });
    expect(new URL(parseDotenv(run.stdout).PULSE_ANALYTICS_DATABASE_URL).searchParams.get("sslrootcert")).toBe(caFile);
  });

  it.each([
    ["migrator", "PULSE_ANALYTICS_MIGRATION_DATABASE_URL", "pulse_analytics_migrator", "migrator-Pw-1"],
    ["readonly", "PULSE_ANALYTICS_READONLY_DATABASE_URL", "pulse_analytics_readonly", "readonly-Pw-1"],
  ])("for --role %s is %s with that role's credentials", async (role, variable, user, password) => {
    const run = await dbUrl(["prod", "--outputs", cdktfOutputs("outputs.json"), "--role", role, "--ca-file", caFile]);
    expect(parseConnection(parseDotenv(run.stdout)[variable])).toMatchObject({ user, password });
  });

  it("points the readonly role at the read replica (pulse_analytics_db_reader_host), or at the primary with --primary; the others always at the primary", async () => {
    const READER = "pulse-analytics-prod-replica-1.c0ffee123456.eu-central-1.rds.amazonaws.com";
    const outputs = cdktfOutputs("replica.json", { pulse_analytics_db_reader_host: READER });
    const hostOf = async (args: string[], variable: string, file = outputs) =>
      parseConnection(parseDotenv((await dbUrl(["prod", "--outputs", file, "--ca-file", caFile, ...args])).stdout)[variable]).host;
    expect(await hostOf(["--role", "readonly"], "PULSE_ANALYTICS_READONLY_DATABASE_URL")).toBe(READER);
    expect(await hostOf(["--role", "readonly", "--primary"], "PULSE_ANALYTICS_READONLY_DATABASE_URL")).toBe(HOST);
    expect(await hostOf(["--role", "app"], "PULSE_ANALYTICS_DATABASE_URL")).toBe(HOST);
    // An outputs file of a stack from before read replicas has no reader host: the primary.
    expect(await hostOf(["--role", "readonly"], "PULSE_ANALYTICS_READONLY_DATABASE_URL", cdktfOutputs("older.json"))).toBe(HOST);
  }, 60_000);

  // A stack whose config lists "app" in iamAuthenticatedRoles: the app role has a connect policy, no secret.
  const IAM_APP = {
    pulse_analytics_db_app_secret_arn: undefined,
    pulse_analytics_db_app_connect_policy_arn: "arn:aws:iam::123456789012:policy/pulse-analytics-prod-pulse_analytics_app-connect",
  };

  it("with --iam, for a role that signs in with IAM tokens, has no password and reads no secret", async () => {
    fake.requests.length = 0;
    const run = await dbUrl(["prod", "--outputs", cdktfOutputs("iam.json", IAM_APP), "--iam", "--ca-file", caFile]);
    const url = parseDotenv(run.stdout).PULSE_ANALYTICS_DATABASE_URL;
    expect(url).toMatch(new RegExp(`^postgresql://pulse_analytics_app@${HOST.replace(/\./g, "\\.")}:5432/pulse_analytics\\?`));
    expect(new URL(url).password).toBe("");
    expect(fake.requests).toEqual([]);
  });

  it("refuses --iam for a role on a password, and a role on IAM tokens without --iam, saying what to do", async () => {
    const onPassword = await dbUrl(["prod", "--outputs", cdktfOutputs("outputs.json"), "--iam", "--ca-file", caFile]);
    expect([onPassword.code, onPassword.stdout, onPassword.stderr.trim()]).toEqual([
      1,
      "",
      'error: pulse_analytics_app signs in with a password in prod, not IAM tokens: drop --iam, or add "app" to iamAuthenticatedRoles (stacks/environments.ts) and deploy.',
    ]);
    const onIam = await dbUrl(["prod", "--outputs", cdktfOutputs("iam.json", IAM_APP), "--ca-file", caFile]);
    expect([onIam.code, onIam.stdout, onIam.stderr.trim()]).toEqual([
      1,
      "",
      "error: pulse_analytics_app signs in with IAM tokens in prod (it has no password): add --iam.",
    ]);
    // The other roles of the same stack keep their passwords.
    const readonly = await dbUrl(["prod", "--outputs", cdktfOutputs("iam.json", IAM_APP), "--role", "readonly", "--ca-file", caFile]);
    expect(parseConnection(parseDotenv(readonly.stdout).PULSE_ANALYTICS_READONLY_DATABASE_URL)).toMatchObject({ password: "readonly-Pw-1" });
  });
});

describe("the URL's encoding", () => {
  it("leaves nothing a shell, dotenv or libpq would read differently: a CA path with a space and a plus, an IPv6 host", () => {
    const { buildPostgresUrl } = jest.requireActual<typeof import("../../src/client/connection-url")>("../../src/client/connection-url");
    const url = buildPostgresUrl({
      user: "pulse_analytics_app",
      password: "a!b'c(d)e*f",
      host: "2001:db8::5",
      port: 5432,
      database: "pulse_analytics",
      params: { sslmode: "verify-full", sslrootcert: "/certs/My CA+bundle.pem" },
    });
    expect(url).toBe(
      "postgresql://pulse_analytics_app:a%21b%27c%28d%29e%2Af@[2001:db8::5]:5432/pulse_analytics?sslmode=verify-full&sslrootcert=%2Fcerts%2FMy%20CA%2Bbundle.pem",
    );
    expect(new URL(url).searchParams.get("sslrootcert")).toBe("/certs/My CA+bundle.pem");
    expect(new URL(url).hostname).toBe("[2001:db8::5]");
  });
});

describe("the formats", () => {
  const outputsFor = () => cdktfOutputs("outputs.json");
  const expectedUrl = async () =>
    parseDotenv((await dbUrl(["prod", "--outputs", outputsFor(), "--ca-file", caFile])).stdout).PULSE_ANALYTICS_DATABASE_URL;

  it("shell: an export that a POSIX shell reads back exactly", async () => {
    const run = await dbUrl(["prod", "--outputs", outputsFor(), "--ca-file", caFile, "--format", "shell"]);
    expect(run.stdout).toMatch(/^export PULSE_ANALYTICS_DATABASE_URL='/);
    writeFileSync(file("env.sh"), run.stdout);
    const echoed = execFileSync("sh", ["-c", `. '${file("env.sh")}'; printf %s "$PULSE_ANALYTICS_DATABASE_URL"`], { encoding: "utf8" });
    expect(echoed).toBe(await expectedUrl());
  });

  it("dotenv: a line that dotenv, and a shell sourcing the file (set -a; . ./.env), both read back exactly", async () => {
    const run = await dbUrl(["prod", "--outputs", outputsFor(), "--ca-file", caFile]);
    writeFileSync(file("sourced.env"), run.stdout);
    const echoed = execFileSync("sh", ["-c", `set -a; . '${file("sourced.env")}'; printf %s "$PULSE_ANALYTICS_DATABASE_URL"`], { encoding: "utf8" });
    expect(echoed).toBe(parseDotenv(run.stdout).PULSE_ANALYTICS_DATABASE_URL);
    expect(parseConnection(echoed).password).toBe(NASTY_PASSWORD);
  });

  it("json: an object keyed by the variable name", async () => {
    const run = await dbUrl(["prod", "--outputs", outputsFor(), "--ca-file", caFile, "--format", "json"]);
    expect(JSON.parse(run.stdout)).toEqual({ PULSE_ANALYTICS_DATABASE_URL: await expectedUrl() });
  });

  it("k8s-secret: a Secret manifest with stringData, the URL pointing at the CA bundle mounted from the same Secret", async () => {
    const run = await dbUrl([
      "prod",
      "--outputs",
      outputsFor(),
      "--ca-file",
      caFile,
      "--format",
      "k8s-secret",
      "--k8s-name",
      "pulse-db",
      "--k8s-namespace",
      "learning",
      "--k8s-ca-path",
      "/etc/pulse/ca/rds.pem",
    ]);
    const manifest = parseYaml(run.stdout);
    expect(manifest).toMatchObject({ apiVersion: "v1", kind: "Secret", type: "Opaque", metadata: { name: "pulse-db", namespace: "learning" } });
    expect(Object.keys(manifest.stringData).sort()).toEqual(["PULSE_ANALYTICS_DATABASE_URL", "rds.pem"]);
    expect(manifest.stringData["rds.pem"]).toBe(readFileSync(caFile, "utf8"));
    const url = manifest.stringData.PULSE_ANALYTICS_DATABASE_URL;
    // (pg-connection-string would open the sslrootcert, which exists only in the pod: read the URL as a URL.)
    expect(decodeURIComponent(new URL(url).password)).toBe(NASTY_PASSWORD);
    expect(new URL(url).hostname).toBe(HOST);
    expect(new URL(url).searchParams.get("sslrootcert")).toBe("/etc/pulse/ca/rds.pem");
  });

  it("--out writes the file with mode 0600, replacing a wider one, and says so without the secret", async () => {
    const out = file("backend.env");
    writeFileSync(out, "old\n");
    chmodSync(out, 0o644);
    const run = await dbUrl(["prod", "--outputs", outputsFor(), "--ca-file", caFile, "--out", out]);
    expect(run).toMatchObject({ code: 0, stdout: "" });
    expect(statSync(out).mode & 0o777).toBe(0o600);
    expect(parseDotenv(readFileSync(out)).PULSE_ANALYTICS_DATABASE_URL).toBe(await expectedUrl());
    expect(run.stderr).toBe(`Wrote PULSE_ANALYTICS_DATABASE_URL (dotenv) for prod to ${out} (mode 0600).\n`);
  });
});

describe("bad input: one line saying what is wrong and how to fix it, exit 1, nothing written", () => {
  const cases: Array<[string, () => string[], Record<string, string>, RegExp]> = [
    [
      "a missing outputs file",
      () => ["prod", "--outputs", file("absent.json"), "--ca-file", caFile],
      {},
      /^error: outputs file .+absent\.json not found: write it with npx cdktf output prod --outputs-file /,
    ],
    [
      "an outputs file that is not JSON",
      () => {
        writeFileSync(file("bad.json"), "{ nope");
        return ["prod", "--outputs", file("bad.json"), "--ca-file", caFile];
      },
      {},
      /^error: outputs file .+bad\.json is not JSON: write it again with /,
    ],
    // Issue 10: the error quotes nothing of the file, which may hold anything.
    [
      "an outputs file that is not JSON, without quoting it",
      () => {
        writeFileSync(file("leak.json"), "hunter2 is the password");
        return ["prod", "--outputs", file("leak.json"), "--ca-file", caFile];
      },
      {},
      /^error: outputs file .+leak\.json is not JSON: write it again with [^"]+$/,
    ],
    // Issue 10: a host that would end the dotenv line's quote and run a command when sourced.
    [
      "a host that is not a host name",
      () => [
        "prod",
        "--outputs",
        cdktfOutputs("evil-host.json", { pulse_analytics_db_host: "db.example.com'; touch /tmp/pwned; '" }),
        "--ca-file",
        caFile,
      ],
      {},
      /^error: outputs file .+evil-host\.json has a pulse_analytics_db_host that is not a host name or an IP address \(not shown\)/,
    ],
    [
      "a host with a port",
      () => ["prod", "--outputs", cdktfOutputs("port-host.json", { pulse_analytics_db_host: "db.example.com:5432" }), "--ca-file", caFile],
      {},
      /^error: outputs file .+ has a pulse_analytics_db_host that is not a host name or an IP address/,
    ],
    // Issue 10: a FIFO would block the read for ever.
    [
      "a FIFO as the outputs file",
      () => {
        execFileSync("mkfifo", [file("fifo.json")]);
        return ["prod", "--outputs", file("fifo.json"), "--ca-file", caFile];
      },
      {},
      /^error: outputs file .+fifo\.json is not a regular file: write it with /,
    ],
    [
      "an environment missing from the outputs file",
      () => ["staging", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile],
      {},
      /^error: outputs file .+ has no outputs of stack staging \(it has: dev, prod\): run npx cdktf output staging --outputs-file /,
    ],
    [
      "a missing output",
      () => ["prod", "--outputs", cdktfOutputs("no-port.json", { pulse_analytics_db_port: undefined }), "--ca-file", caFile],
      {},
      /^error: outputs file .+ has no valid pulse_analytics_db_port/,
    ],
    [
      "a missing secret ARN output",
      () => ["prod", "--outputs", cdktfOutputs("no-arn.json", { pulse_analytics_db_app_secret_arn: undefined }), "--ca-file", caFile],
      {},
      /^error: outputs file .+ has no pulse_analytics_db_app_secret_arn for prod: deploy this version of the stack/,
    ],
    [
      "a secret that does not exist",
      () => ["prod", "--outputs", cdktfOutputs("gone.json", { pulse_analytics_db_app_secret_arn: arn("gone") }), "--ca-file", caFile],
      {},
      /^error: secret arn:.+gone-AbCdEf not found: is the outputs file of this environment/,
    ],
    [
      "access denied",
      () => ["prod", "--outputs", cdktfOutputs("denied.json", { pulse_analytics_db_app_secret_arn: arn("denied") }), "--ca-file", caFile],
      {},
      /^error: access denied reading secret arn:.+denied-AbCdEf: the caller needs secretsmanager:GetSecretValue on it and kms:Decrypt on its KMS key\.$/,
    ],
    [
      "a secret that is not JSON",
      () => ["prod", "--outputs", cdktfOutputs("malformed.json", { pulse_analytics_db_app_secret_arn: arn("malformed") }), "--ca-file", caFile],
      {},
      /^error: secret arn:.+malformed-AbCdEf is not JSON: expected the RDS secret JSON shape/,
    ],
    [
      "a secret without a password",
      () => ["prod", "--outputs", cdktfOutputs("no-pw.json", { pulse_analytics_db_app_secret_arn: arn("no-password") }), "--ca-file", caFile],
      {},
      /^error: secret arn:.+no-password-AbCdEf has no "password": expected the RDS secret JSON shape/,
    ],
    [
      "no AWS region",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile],
      { AWS_REGION: "", AWS_DEFAULT_REGION: "" },
      /^error: no AWS region configured: set AWS_REGION=eu-central-1 \(the secret's region\)/,
    ],
    [
      "another AWS region than the secret's",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile],
      { AWS_REGION: "us-east-1" },
      /^error: the AWS region is us-east-1 but the secret is in eu-central-1: set AWS_REGION=eu-central-1/,
    ],
    [
      "no CA bundle",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json")],
      {},
      /^error: no CA bundle: pass --ca-file FILE or set PULSE_ANALYTICS_DB_CA_FILE \(download the RDS bundle with: curl /,
    ],
    [
      "a CA bundle that does not exist",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", file("nope.pem")],
      {},
      /^error: CA bundle .+nope\.pem does not exist: download it with curl /,
    ],
    ["an unknown environment", () => ["qa", "--ca-file", caFile], {}, /^error: invalid environment: "qa"\. Allowed: dev, staging, prod\.$/],
    [
      "an unknown role",
      () => ["prod", "--role", "admin", "--ca-file", caFile],
      {},
      /^error: invalid --role: "admin"\. Allowed: migrator, app, readonly\.$/,
    ],
    [
      "an unknown format",
      () => ["prod", "--format", "yaml", "--ca-file", caFile],
      {},
      /^error: invalid --format: "yaml"\. Allowed: dotenv, shell, json, k8s-secret\.$/,
    ],
    [
      "another environment's terraform output file",
      () => {
        writeFileSync(
          file("staging-tf.json"),
          JSON.stringify(
            Object.fromEntries(
              Object.entries(OUTPUTS).map(([k, v]) => [
                k,
                {
                  sensitive: false,
                  type: "string",
                  value: typeof v === "string" ? v.replace("pulse-analytics-prod/", "pulse-analytics-staging/") : v,
                },
              ]),
            ),
          ),
        );
        return ["prod", "--outputs", file("staging-tf.json"), "--ca-file", caFile];
      },
      {},
      /^error: outputs file .+staging-tf\.json holds staging's outputs, not prod's: write prod's with /,
    ],
    [
      "an --out that is a folder (the secret already read)",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile, "--out", dir],
      {},
      /^error: cannot write .+: EISDIR; nothing was written\.$/,
    ],
    [
      "an --out folder that does not exist",
      () => ["prod", "--outputs", cdktfOutputs("outputs.json"), "--ca-file", caFile, "--out", file("no/such/dir/x.env")],
      {},
      /^error: cannot write .+x\.env: folder .+dir does not exist\.$/,
    ],
  ];

  it.each(cases)("%s", async (_name, args, env, message) => {
    const out = file(`out-${Math.random().toString(36).slice(2)}.env`);
    const argv = args();
    const before = readdirSync(dir).sort();
    const run = await dbUrl(argv.includes("--out") ? argv : [...argv, "--out", out], env);
    // Nothing new in the folder: no output, no temporary file.
    expect(
      readdirSync(dir)
        .sort()
        .filter((f) => !before.includes(f) && !f.endsWith(".json")),
    ).toEqual([]);
    expect(run.code).toBe(1);
    expect(run.stdout).toBe("");
    const lines = run.stderr.trim().split("\n");
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(message);
    expect(run.stderr).not.toContain("hunter2");
    expect(run.stderr).not.toContain(encodeURIComponent(NASTY_PASSWORD));
    expect(existsSync(out)).toBe(false);
  });
});

(opensslAvailable ? describe : describe.skip)("--check, against a real PostgreSQL over verify-full TLS", () => {
  let db: RunningLocalDatabase;
  let certs: ReturnType<typeof makeTestCertificates>;
  let local: FakeSecretsManager;
  let outputs: string;

  beforeAll(async () => {
    certs = makeTestCertificates();
    const tlsDir = mkdtempSync(join(tmpdir(), "pulse-check-"));
    chmodSync(tlsDir, 0o755);
    db = await startLocalDatabase({ stateDir: tlsDir, tls: { certFile: certs.certFile, keyFile: certs.keyFile } });
    const credentials = db.credentials();
    local = await startFakeSecretsManager({
      // Each names its role's active password slot, as the deployed secrets do.
      [arn("pulse_analytics_app")]: { secretString: rdsSecret("pulse_analytics_app_a", credentials.app) },
      [arn("pulse_analytics_readonly")]: { secretString: rdsSecret("pulse_analytics_readonly_b", credentials.readonly) },
      [arn("pulse_analytics_migrator")]: { secretString: rdsSecret("pulse_analytics_migrator_a", credentials.migrator) },
    });
    outputs = file("local-outputs.json");
    writeFileSync(
      outputs,
      JSON.stringify({
        prod: {
          ...OUTPUTS,
          pulse_analytics_db_host: "localhost",
          pulse_analytics_db_port: db.port,
          pulse_analytics_db_endpoint: `localhost:${db.port}`,
        },
      }),
    );
  }, 180_000);

  afterAll(async () => {
    await local?.close();
    await db?.stop();
    if (db) removeStateDir(db.stateDir);
    if (certs) rmSync(certs.dir, { recursive: true, force: true });
  });

  // PULSE_ANALYTICS_DB_CA_FILE emptied: --check must use the --ca-file it writes into the URL, nothing else.
  const check = (args: string[]) =>
    runCli("db-url", ["prod", "--outputs", outputs, "--check", ...args], local.env({ PULSE_ANALYTICS_DB_CA_FILE: "" }));

  it.each([
    ["app", "a"],
    ["readonly", "b"],
    ["migrator", "a"],
  ])("connects as %s (its active slot %s), reports the server version, and finds its privileges as the role model says", async (role, slot) => {
    const run = await check(["--role", role, "--ca-file", certs.caFile]);
    expect(run.stderr).toMatch(
      new RegExp(
        `^check: connected over verified TLS to PostgreSQL 17\\.\\d+ as pulse_analytics_${role}_${slot}\\.\\ncheck: the privileges of pulse_analytics_${role}_${slot} match the role model \\(3 analytics tables checked\\)\\.\\n$`,
      ),
    );
    expect(run.code).toBe(0);
    expect(run.stdout).toMatch(/^PULSE_ANALYTICS_\w*DATABASE_URL='postgresql:\/\//);
  });

  // As far as IAM authentication can be tried without RDS: the real signer makes a token for each
  // connection, pg offers it as the password over verified TLS, and this server (which knows no IAM)
  // refuses it as a wrong password for that user. RDS would check the token's signature instead.
  it("IAM: the pool signs a fresh RDS token per connection and offers it over verified TLS (a server without IAM refuses it: 28P01)", async () => {
    const { Pool } = jest.requireActual<typeof import("pg")>("pg");
    const { poolConfig } = jest.requireActual<typeof import("../../src/client/pool")>("../../src/client/pool");
    const saved = { ...process.env };
    Object.assign(process.env, { AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID, AWS_SECRET_ACCESS_KEY: "test-secret", AWS_EC2_METADATA_DISABLED: "true" });
    const config = poolConfig(
      {
        connectionString: `postgresql://pulse_analytics_app@localhost:${db.port}/pulse_analytics`,
        caFile: certs.caFile,
        iam: { region: "eu-central-1" },
      },
      {},
    );
    const sign = config.password as () => Promise<string>;
    const tokens: string[] = [];
    const pool = new Pool({ ...config, password: async () => tokens[tokens.push(await sign()) - 1] });
    try {
      for (let attempt = 0; attempt < 2; attempt++) {
        await expect(pool.query("SELECT 1")).rejects.toMatchObject({
          code: "28P01",
          message: 'password authentication failed for user "pulse_analytics_app"',
        });
      }
      expect(tokens).toHaveLength(2);
      for (const token of tokens) {
        expect(token).toMatch(
          new RegExp(
            `^localhost:${db.port}/\\?Action=connect&DBUser=pulse_analytics_app&X-Amz-Algorithm=AWS4-HMAC-SHA256&.*X-Amz-Signature=[0-9a-f]{64}`,
          ),
        );
      }
    } finally {
      await pool.end();
      process.env = saved;
    }
  }, 60_000);

  it("refuses a server whose certificate does not chain to the given CA, and writes nothing", async () => {
    const out = file("untrusted.env");
    const run = await check(["--ca-file", certs.otherCaFile, "--out", out]);
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^error: --check could not connect: .*(self[- ]signed|unable to verify|unable to get local issuer).*\. Nothing was written\.$/,
    );
    expect(existsSync(out)).toBe(false);
  });

  it("refuses a host name the certificate does not carry (verify-full, not just verify-ca)", async () => {
    writeFileSync(
      file("ip-outputs.json"),
      JSON.stringify({ prod: { ...OUTPUTS, pulse_analytics_db_host: "127.0.0.1", pulse_analytics_db_port: db.port } }),
    );
    const run = await runCli(
      "db-url",
      ["prod", "--outputs", file("ip-outputs.json"), "--check", "--ca-file", certs.caFile],
      local.env({ PULSE_ANALYTICS_DB_CA_FILE: "" }),
    );
    expect(run.code).toBe(1);
    expect(run.stderr.trim()).toMatch(
      /^error: --check could not connect: .*(Hostname\/IP does not match|IP: 127\.0\.0\.1 is not in the cert's list).*\. Nothing was written\.$/,
    );
  });

  it("reports each privilege that differs from the role model, exits 1 and writes nothing", async () => {
    const admin = db.config("pulse_admin", db.credentials().admin);
    await withClient(admin, (client) => client.query("GRANT INSERT ON analytics.user_readiness TO pulse_analytics_readonly"));
    try {
      const out = file("drifted.env");
      const run = await check(["--role", "readonly", "--ca-file", certs.caFile, "--out", out]);
      expect(run.code).toBe(1);
      expect(run.stderr).toContain(
        "error: the privileges of pulse_analytics_readonly_b differ from the role model: INSERT on analytics.user_readiness: held, the role model says not held. Nothing was written.",
      );
      expect(existsSync(out)).toBe(false);
    } finally {
      await withClient(admin, (client) => client.query("REVOKE INSERT ON analytics.user_readiness FROM pulse_analytics_readonly"));
    }
  });
});
