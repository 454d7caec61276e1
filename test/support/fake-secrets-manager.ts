// A stand-in for AWS Secrets Manager on 127.0.0.1, speaking its JSON protocol (POST /, header
// X-Amz-Target: secretsmanager.GetSecretValue), so the real SDK client, signing and error parsing
// included, is exercised end to end through AWS_ENDPOINT_URL_SECRETS_MANAGER.

import { createServer, IncomingMessage, Server, ServerResponse } from "node:http";

export interface FakeSecretsManager {
  readonly endpoint: string;
  /** Every request: its target, the SecretId asked for, and the access key it was signed with. */
  readonly requests: Array<{ target: string; secretId: string; accessKeyId: string | undefined }>;
  /** The environment a child process needs to reach it with dummy credentials and no other AWS configuration. */
  env(extra?: Record<string, string>): Record<string, string>;
  close(): Promise<void>;
}

export interface FakeSecret {
  readonly secretString?: string;
  /** Answer with this AWS error instead of the secret. */
  readonly error?: "AccessDeniedException" | "DecryptionFailure";
  /** Answer only after this many milliseconds (a slow or distant endpoint). */
  readonly delayMs?: number;
}

export const TEST_ACCESS_KEY_ID = "AKIAPULSETESTKEY0001";

export async function startFakeSecretsManager(secrets: Record<string, FakeSecret>): Promise<FakeSecretsManager> {
  const requests: FakeSecretsManager["requests"] = [];
  const server: Server = createServer((request, response) => void answer(request, response));
  async function answer(request: IncomingMessage, response: ServerResponse): Promise<void> {
    const body = JSON.parse((await readBody(request)) || "{}");
    const target = String(request.headers["x-amz-target"] ?? "");
    const accessKeyId = /Credential=([^/]+)\//.exec(String(request.headers.authorization ?? ""))?.[1];
    requests.push({ target, secretId: body.SecretId, accessKeyId });
    const reply = (status: number, payload: object) => {
      response.writeHead(status, { "content-type": "application/x-amz-json-1.1", "x-amzn-requestid": "00000000-0000-0000-0000-000000000000" });
      response.end(JSON.stringify(payload));
    };
    if (target !== "secretsmanager.GetSecretValue") return reply(400, { __type: "UnknownOperationException", message: target });
    const secret = secrets[body.SecretId];
    if (!secret) return reply(400, { __type: "ResourceNotFoundException", message: "Secrets Manager can't find the specified secret." });
    if (secret.delayMs) await new Promise((resolve) => setTimeout(resolve, secret.delayMs));
    if (secret.error) return reply(400, { __type: secret.error, Message: `${secret.error} for ${body.SecretId}` });
    return reply(200, {
      ARN: body.SecretId,
      Name: body.SecretId.split(":secret:")[1],
      SecretString: secret.secretString,
      VersionId: "11111111-2222-3333-4444-555555555555",
      VersionStages: ["AWSCURRENT"],
      CreatedDate: 1764028800,
    });
  }
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const { port } = server.address() as { port: number };
  const endpoint = `http://127.0.0.1:${port}`;
  return {
    endpoint,
    requests,
    env: (extra = {}) => ({
      AWS_ENDPOINT_URL_SECRETS_MANAGER: endpoint,
      AWS_REGION: "eu-central-1",
      AWS_ACCESS_KEY_ID: TEST_ACCESS_KEY_ID,
      AWS_SECRET_ACCESS_KEY: "pulse-test-secret-access-key",
      // Nothing from this machine's AWS setup, and never the instance metadata service.
      AWS_PROFILE: "",
      AWS_CONFIG_FILE: "/nonexistent/aws-config",
      AWS_SHARED_CREDENTIALS_FILE: "/nonexistent/aws-credentials",
      AWS_EC2_METADATA_DISABLED: "true",
      AWS_MAX_ATTEMPTS: "1",
      ...extra,
    }),
    close: () => new Promise((resolve) => server.close(() => resolve())),
  };
}

function readBody(request: IncomingMessage): Promise<string> {
  return new Promise((resolve) => {
    let body = "";
    request.on("data", (chunk) => (body += chunk));
    request.on("end", () => resolve(body));
  });
}
