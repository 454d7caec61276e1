// `npm run db:url -- <env> [options]`: the PULSE backend's connection settings for a deployed
// environment, from the stack outputs and the role's Secrets Manager secret, in the form a platform
// takes (.env line, shell export, JSON, Kubernetes Secret); optionally checked against the database.

import { existsSync, readFileSync, statSync } from "node:fs";
import { basename, dirname, resolve } from "node:path";
import { parseArgs } from "node:util";
import { ENVIRONMENT_NAMES } from "../config/rules";
import { ConnectionFormat, FORMATS, renderConnection } from "../deployed/connection-formats";
import { buildPostgresUrl } from "../client/connection-url";
import { createPool } from "../client/pool";
import { checkRolePrivileges } from "../deployed/role-privileges";
import { LOGIN_ROLE_KEYS, loginRole, LoginRoleKey, role } from "../roles/role-model";
import { readRoleSecret } from "../client/role-secret";
import { readDatabaseOutputs } from "../deployed/stack-outputs";
import { writePrivateFile } from "../support/private-file";
import { CommandError, runCommand } from "./command";

const USAGE =
  `npm run db:url -- <dev|staging|prod> [--role ${LOGIN_ROLE_KEYS.join("|")}] [--outputs FILE] [--ca-file FILE] ` +
  "[--format dotenv|shell|json|k8s-secret] [--k8s-name NAME] [--k8s-namespace NS] [--k8s-ca-path PATH] [--out FILE] [--check] [--iam] [--primary]";
const DEFAULT_OUTPUTS_FILE = "outputs.json";
const DEFAULT_K8S_CA_PATH = "/etc/pulse-analytics/rds-ca-bundle.pem";
const CA_DOWNLOAD = "curl -fsSo rds-global-bundle.pem https://truststore.pki.rds.amazonaws.com/global/global-bundle.pem";

function oneOf<T extends string>(option: string, value: string, allowed: readonly T[]): T {
  if (!(allowed as readonly string[]).includes(value)) {
    throw new CommandError(`invalid ${option}: ${JSON.stringify(value)}. Allowed: ${allowed.join(", ")}.`);
  }
  return value as T;
}

// On Node 20 the SDK prints a notice that its releases from 2027 on need Node 22 (the pinned one runs
// on 20, and the README says to use 22 or 24); in a command's stderr it would read as an error.
process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= "true";

runCommand(async () => {
  const { values, positionals } = parseArgs({
    allowPositionals: true,
    options: {
      role: { type: "string", default: "app" },
      outputs: { type: "string", default: DEFAULT_OUTPUTS_FILE },
      "ca-file": { type: "string" },
      format: { type: "string", default: "dotenv" },
      "k8s-name": { type: "string", default: "pulse-analytics-db" },
      "k8s-namespace": { type: "string", default: "default" },
      "k8s-ca-path": { type: "string", default: DEFAULT_K8S_CA_PATH },
      out: { type: "string" },
      check: { type: "boolean", default: false },
      iam: { type: "boolean", default: false },
      primary: { type: "boolean", default: false },
    },
  });
  const [environmentName] = positionals;
  if (positionals.length !== 1 || environmentName === undefined) throw new CommandError(`name one environment. Usage: ${USAGE}`);
  const environment = oneOf("environment", environmentName, ENVIRONMENT_NAMES);
  const roleKey = oneOf("--role", values.role, LOGIN_ROLE_KEYS);
  const format = oneOf<ConnectionFormat>("--format", values.format, FORMATS);

  const caOption = values["ca-file"] ?? process.env.PULSE_ANALYTICS_DB_CA_FILE;
  if (!caOption) {
    throw new CommandError(`no CA bundle: pass --ca-file FILE or set PULSE_ANALYTICS_DB_CA_FILE (download the RDS bundle with: ${CA_DOWNLOAD}).`);
  }
  const caFile = resolve(caOption);
  if (!existsSync(caFile) || !statSync(caFile).isFile()) {
    throw new CommandError(`CA bundle ${caFile} does not exist: download it with ${CA_DOWNLOAD}, or fix --ca-file / PULSE_ANALYTICS_DB_CA_FILE.`);
  }
  if (values.out && !existsSync(dirname(resolve(values.out)))) {
    throw new CommandError(`cannot write ${values.out}: folder ${dirname(resolve(values.out))} does not exist.`);
  }

  const outputs = readDatabaseOutputs(values.outputs, environment);
  const secretArn = outputs.secretArns[roleKey];
  // A role signs in one way only (RDS: a member of rds_iam has no working password).
  if (secretArn === undefined && !values.iam) {
    throw new CommandError(`${role(roleKey).name} signs in with IAM tokens in ${environment} (it has no password): add --iam.`);
  }
  if (secretArn !== undefined && values.iam) {
    throw new CommandError(
      `${role(roleKey).name} signs in with a password in ${environment}, not IAM tokens: drop --iam, or add "${roleKey}" to iamAuthenticatedRoles (stacks/environments.ts) and deploy.`,
    );
  }
  const { username, password } =
    secretArn === undefined
      ? { username: roleKey === "app" ? outputs.appUser : role(roleKey).name, password: undefined }
      : await readRoleSecret(secretArn);

  // A role that only reads goes to a read replica when there is one (the reader host), unless --primary.
  const host = loginRole(roleKey).readsFromReplica && !values.primary ? outputs.readerHost : outputs.host;
  const url = (sslrootcert: string) =>
    buildPostgresUrl({
      user: username,
      password,
      host,
      port: outputs.port,
      database: outputs.databaseName,
      params: { sslmode: "verify-full", sslrootcert },
    });

  if (values.check) await check(url(caFile), caFile, roleKey, values.iam ? regionOfRdsHost(host) : undefined);

  const kubernetes = format === "k8s-secret";
  const rendered = renderConnection(format, loginRole(roleKey).urlVariable, url(kubernetes ? values["k8s-ca-path"] : caFile), {
    name: values["k8s-name"],
    namespace: values["k8s-namespace"],
    caBundle: kubernetes ? readOrExplain(caFile) : undefined,
    caKey: basename(values["k8s-ca-path"]),
  });
  if (values.out) {
    try {
      writePrivateFile(values.out, rendered);
    } catch (error) {
      throw new CommandError(
        `cannot write ${values.out}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}; nothing was written.`,
      );
    }
    console.error(`Wrote ${loginRole(roleKey).urlVariable} (${format}) for ${environment} to ${values.out} (mode 0600).`);
  } else {
    process.stdout.write(rendered);
  }
});

/** Connects with the URL about to be handed out and compares the role's privileges with the role model. */
async function check(url: string, caFile: string, roleKey: LoginRoleKey, iamRegion: string | undefined): Promise<void> {
  const pool = createPool({
    connectionString: url,
    caFile,
    iam: iamRegion ? { region: iamRegion } : undefined,
    pool: { max: 1, connectionTimeoutMillis: 15_000 },
  });
  try {
    const client = await pool.connect();
    try {
      const report = await checkRolePrivileges(client, roleKey);
      console.error(`check: connected over verified TLS to PostgreSQL ${report.serverVersion} as ${report.currentUser}.`);
      if (report.mismatches.length > 0) {
        throw new CommandError(
          `the privileges of ${report.currentUser} differ from the role model: ${report.mismatches.join("; ")}. Nothing was written.`,
        );
      }
      console.error(`check: the privileges of ${report.currentUser} match the role model (${report.tables.length} analytics tables checked).`);
    } finally {
      client.release();
    }
  } catch (error) {
    if (error instanceof CommandError) throw error;
    const { code, message } = error as { code?: string; message?: string };
    // pg's messages name the host and the failure, never the password.
    throw new CommandError(`--check could not connect: ${code ? `${code}: ` : ""}${message ?? String(error)}. Nothing was written.`);
  } finally {
    await pool.end();
  }
}

function readOrExplain(file: string): string {
  try {
    return readFileSync(file, "utf8");
  } catch (error) {
    throw new CommandError(`cannot read CA bundle ${file}: ${(error as NodeJS.ErrnoException).code ?? (error as Error).message}.`);
  }
}

/** The region in an RDS host name (<id>.<hash>.<region>.rds.amazonaws.com), for IAM token signing. */
function regionOfRdsHost(host: string): string {
  const region = /\.([a-z]{2}(?:-[a-z]+)+-\d)\.rds\.amazonaws\.com(\.cn)?$/.exec(host)?.[1] ?? process.env.AWS_REGION;
  if (!region) throw new CommandError(`cannot tell the region of ${host} for IAM tokens: set AWS_REGION.`);
  return region;
}
