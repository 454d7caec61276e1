// Reads a deployed environment's stack outputs from a file written by `npx cdktf output <env>
// --outputs-file FILE` (keyed by stack) or `terraform output -json` (keyed by output), whichever it is.

import { existsSync, readFileSync, statSync } from "node:fs";
import ipaddr from "ipaddr.js";
import { DATABASE_OUTPUTS, INSTANCE_OUTPUTS, loginRoleConnectPolicyOutput, loginRoleSecretOutput } from "../outputs";
import { LOGIN_ROLE_KEYS, LoginRoleKey } from "../roles/role-model";
import { ConnectionSettingsError } from "../client/pool";

export interface DatabaseOutputs {
  readonly host: string;
  /** Where read-only clients connect: a read replica, or the primary (pulse_analytics_db_reader_host; the primary's host in an older stack's file). */
  readonly readerHost: string;
  readonly port: number;
  readonly databaseName: string;
  /** The app role's name (pulse_analytics_db_user). */
  readonly appUser: string;
  /** The secret of each login role that signs in with a password. */
  readonly secretArns: Partial<Record<LoginRoleKey, string>>;
  /** The rds-db:connect policy of each login role that signs in with IAM tokens (it has no secret). */
  readonly connectPolicyArns: Partial<Record<LoginRoleKey, string>>;
  /** Which of the two shapes the file had. */
  readonly format: "cdktf" | "terraform";
}

/** The names read, from the one table of outputs the stacks write. */
const OUTPUT = {
  host: INSTANCE_OUTPUTS.host.name,
  readerHost: INSTANCE_OUTPUTS.readerHost.name,
  port: INSTANCE_OUTPUTS.port.name,
  databaseName: DATABASE_OUTPUTS.databaseName.name,
  appUser: DATABASE_OUTPUTS.appUser.name,
} as const;

export function readDatabaseOutputs(file: string, environment: string): DatabaseOutputs {
  const howToWrite = `npx cdktf output ${environment} --outputs-file ${file} (or terraform -chdir=cdktf.out/stacks/${environment} output -json > ${file})`;
  if (!existsSync(file)) {
    throw new ConnectionSettingsError(`outputs file ${file} not found: write it with ${howToWrite}, or pass --outputs FILE.`);
  }
  // A FIFO or a device would block the read (or never end): only a regular file is read.
  if (!statSync(file).isFile()) {
    throw new ConnectionSettingsError(`outputs file ${file} is not a regular file: write it with ${howToWrite}.`);
  }
  let document: unknown;
  try {
    document = JSON.parse(readFileSync(file, "utf8"));
  } catch {
    // JSON.parse's message quotes the text around the error, which may be anything: not shown.
    throw new ConnectionSettingsError(`outputs file ${file} is not JSON: write it again with ${howToWrite}.`);
  }
  if (!isObject(document)) throw new ConnectionSettingsError(`outputs file ${file} is not a JSON object: write it again with ${howToWrite}.`);

  let values: Record<string, unknown>;
  let format: DatabaseOutputs["format"];
  const terraformShaped = Object.values(document).some((v) => isObject(v) && "value" in v && ("type" in v || "sensitive" in v));
  if (terraformShaped) {
    // terraform output -json: { "name": { "value": …, "type": …, "sensitive": … } }, for one stack.
    format = "terraform";
    values = Object.fromEntries(Object.entries(document).map(([name, output]) => [name, isObject(output) ? output.value : undefined]));
  } else if (Object.values(document).every(isObject)) {
    // cdktf: { "<stack>": { "name": value } }, for the stacks that were asked for.
    format = "cdktf";
    if (!isObject(document[environment])) {
      const stacks = Object.keys(document);
      throw new ConnectionSettingsError(
        `outputs file ${file} has no outputs of stack ${environment} (it has: ${stacks.join(", ") || "none"}): run npx cdktf output ${environment} --outputs-file ${file}.`,
      );
    }
    values = document[environment];
  } else {
    throw new ConnectionSettingsError(`outputs file ${file} is neither cdktf's nor terraform's output JSON: write it again with ${howToWrite}.`);
  }

  const text = (name: string): string => {
    const value = values[name];
    if (typeof value !== "string" || value === "") {
      throw new ConnectionSettingsError(
        `outputs file ${file} has no ${name}${format === "cdktf" ? ` for ${environment}` : ""}: deploy this version of the stack, then write the file again with ${howToWrite}.`,
      );
    }
    return value;
  };
  const portValue = values[OUTPUT.port];
  const port = typeof portValue === "string" ? Number(portValue) : portValue;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 1 || port > 65535) {
    throw new ConnectionSettingsError(
      `outputs file ${file} has no valid ${OUTPUT.port} (found ${JSON.stringify(portValue)}): write it again with ${howToWrite}.`,
    );
  }
  // Each login role signs in one way: the secret of its password, or (IAM) the policy to attach.
  const optionalText = (name: string): string | undefined => (values[name] === undefined ? undefined : text(name));
  const secretArns: Partial<Record<LoginRoleKey, string>> = {};
  const connectPolicyArns: Partial<Record<LoginRoleKey, string>> = {};
  for (const key of LOGIN_ROLE_KEYS) {
    const policyArn = optionalText(loginRoleConnectPolicyOutput(key).name);
    if (policyArn !== undefined) connectPolicyArns[key] = policyArn;
    else secretArns[key] = text(loginRoleSecretOutput(key).name);
  }
  // terraform output -json does not say which stack it came from; the secrets' and policies' names do
  // (pulse-analytics-<env>/…, pulse-analytics-<env>-…): refuse another environment's file rather than hand out its URL.
  const named = [...Object.values(secretArns), ...Object.values(connectPolicyArns)].map(
    (arn) => /:(?:secret:|policy\/)pulse-analytics-(dev|staging|prod)[/-]pulse_analytics_/.exec(arn)?.[1],
  );
  const otherEnvironment = named.find((env) => env !== undefined && env !== environment);
  if (otherEnvironment) {
    throw new ConnectionSettingsError(
      `outputs file ${file} holds ${otherEnvironment}'s outputs, not ${environment}'s: write ${environment}'s with ${howToWrite}.`,
    );
  }
  // The host goes into the URL as it is (and the URL into a quoted dotenv line and shell exports): only a
  // host name or an IP address, nothing that could end a quote or carry a port, user or path.
  const hostNamed = (name: string): string => {
    const value = text(name);
    if (!HOST_NAME.test(value) && !ipaddr.isValid(value)) {
      throw new ConnectionSettingsError(
        `outputs file ${file} has a ${name} that is not a host name or an IP address (not shown): write it again with ${howToWrite}.`,
      );
    }
    return value;
  };
  const host = hostNamed(OUTPUT.host);
  const readerHost = values[OUTPUT.readerHost] === undefined ? host : hostNamed(OUTPUT.readerHost);
  return {
    host,
    readerHost,
    port,
    databaseName: text(OUTPUT.databaseName),
    appUser: text(OUTPUT.appUser),
    secretArns,
    connectPolicyArns,
    format,
  };
}

/** A DNS name: dot-separated labels of letters, digits and inner hyphens (RFC 1123). */
const HOST_NAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}
