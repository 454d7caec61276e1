// Reads a login role's secret (RDS secret JSON: username, password, …) from AWS Secrets Manager with
// the SDK's standard configuration (region, profile, credentials, AWS_ENDPOINT_URL_SECRETS_MANAGER),
// turning each way it can fail into one line that names the secret, never its value.

import { ConnectionSettingsError } from "./connection-settings-error";

export interface RoleSecret {
  readonly username: string;
  readonly password: string;
}

/** The region in a Secrets Manager ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>); undefined for anything else. */
export function regionOfSecretArn(arn: string): string | undefined {
  return /^arn:aws[a-z-]*:secretsmanager:([a-z0-9-]+):\d{12}:secret:.+$/.exec(arn)?.[1];
}

/** How long a read of a secret may wait; an endpoint that accepts and never answers fails it instead of hanging. */
export interface SecretReadTimeouts {
  /** Time to open the TCP connection. @default 5000 */
  readonly connectionTimeoutMs?: number;
  /** Time for an answer once connected. @default 15000 */
  readonly requestTimeoutMs?: number;
  /** Attempts in all, the SDK's retry strategy between them. @default 3 */
  readonly maxAttempts?: number;
}

export async function readRoleSecret(secretArn: string, timeouts: SecretReadTimeouts = {}): Promise<RoleSecret> {
  const secretRegion = regionOfSecretArn(secretArn);
  if (!secretRegion) {
    throw new ConnectionSettingsError(`${JSON.stringify(secretArn)} is not a Secrets Manager secret ARN: check the outputs file.`);
  }
  // Loaded here, not at the top: the SDK is only needed by this command.
  const { SecretsManagerClient, GetSecretValueCommand } = await import("@aws-sdk/client-secrets-manager");
  const client = new SecretsManagerClient({
    requestHandler: {
      connectionTimeout: timeouts.connectionTimeoutMs ?? 5_000,
      requestTimeout: timeouts.requestTimeoutMs ?? 15_000,
      // Without it the handler only logs a warning when requestTimeout passes and the read keeps waiting.
      throwOnRequestTimeout: true,
    },
    maxAttempts: timeouts.maxAttempts ?? 3,
  });
  let region: string;
  try {
    region = await client.config.region();
  } catch {
    throw new ConnectionSettingsError(
      `no AWS region configured: set AWS_REGION=${secretRegion} (the secret's region) or use a profile that has one.`,
    );
  }
  if (region !== secretRegion) {
    throw new ConnectionSettingsError(
      `the AWS region is ${region} but the secret is in ${secretRegion}: set AWS_REGION=${secretRegion} (or use that environment's profile).`,
    );
  }

  let secretString: string | undefined;
  try {
    secretString = (await client.send(new GetSecretValueCommand({ SecretId: secretArn }))).SecretString;
  } catch (error) {
    throw explainSdkError(error, secretArn);
  } finally {
    client.destroy();
  }
  return parseRdsSecret(secretString, secretArn);
}

function explainSdkError(error: unknown, secretArn: string): ConnectionSettingsError {
  const name = (error as { name?: string }).name ?? "Error";
  const sdkMessage = (error as { message?: string }).message ?? "";
  switch (name) {
    case "ResourceNotFoundException":
      return new ConnectionSettingsError(
        `secret ${secretArn} not found: is the outputs file of this environment, and are you in its AWS account (AWS_PROFILE)?`,
      );
    case "AccessDeniedException":
    case "AccessDenied":
      return new ConnectionSettingsError(
        `access denied reading secret ${secretArn}: the caller needs secretsmanager:GetSecretValue on it and kms:Decrypt on its KMS key.`,
      );
    case "UnrecognizedClientException":
    case "InvalidClientTokenId":
    case "ExpiredTokenException":
    case "InvalidSignatureException":
      return new ConnectionSettingsError(`AWS rejected the credentials (${name}): log in again (aws sso login, or refresh AWS_PROFILE's keys).`);
    case "CredentialsProviderError":
      return new ConnectionSettingsError(
        "no AWS credentials found: set AWS_PROFILE, log in with aws sso login, or export AWS_ACCESS_KEY_ID/AWS_SECRET_ACCESS_KEY.",
      );
    case "TimeoutError":
    case "RequestTimeout":
      return new ConnectionSettingsError(
        `Secrets Manager did not answer reading secret ${secretArn} (${name}): check the network to it (a VPC endpoint, a proxy, AWS_ENDPOINT_URL_SECRETS_MANAGER).`,
      );
    case "DecryptionFailure":
      return new ConnectionSettingsError(`Secrets Manager could not decrypt secret ${secretArn}: the caller needs kms:Decrypt on its KMS key.`);
    default:
      return new ConnectionSettingsError(`could not read secret ${secretArn}: ${name}${sdkMessage ? `: ${sdkMessage}` : ""}.`);
  }
}

function parseRdsSecret(secretString: string | undefined, secretArn: string): RoleSecret {
  const shape = "the RDS secret JSON shape (username, password, engine, host, port, dbname)";
  let parsed: unknown;
  try {
    parsed = JSON.parse(secretString ?? "");
  } catch {
    // The value is never echoed: it is the secret.
    throw new ConnectionSettingsError(`secret ${secretArn} is not JSON: expected ${shape}.`);
  }
  if (typeof parsed !== "object" || parsed === null)
    throw new ConnectionSettingsError(`secret ${secretArn} is not a JSON object: expected ${shape}.`);
  const record = parsed as Record<string, unknown>;
  for (const key of ["username", "password"]) {
    if (typeof record[key] !== "string" || record[key] === "") {
      throw new ConnectionSettingsError(`secret ${secretArn} has no "${key}": expected ${shape}.`);
    }
  }
  return { username: record.username as string, password: record.password as string };
}
