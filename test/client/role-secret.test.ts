// readRoleSecret against endpoints that misbehave: a Secrets Manager that accepts the connection and
// never answers fails the read with one line naming the secret, instead of hanging db:url.

import { createServer, Server, Socket } from "node:net";
import { ConnectionSettingsError } from "../../src/client/pool";
import { readRoleSecret } from "../../src/client/role-secret";
import { startFakeSecretsManager } from "../support/fake-secrets-manager";

const SECRET_ARN = "arn:aws:secretsmanager:eu-central-1:123456789012:secret:pulse-analytics/dev/app-AbCdEf";

let silent: Server;
const sockets: Socket[] = [];
const savedEnv = { ...process.env };

beforeAll(async () => {
  // Accepts every connection, reads the request, answers nothing.
  silent = createServer((socket) => {
    sockets.push(socket);
    socket.on("data", () => undefined);
  });
  await new Promise<void>((resolve) => silent.listen(0, "127.0.0.1", resolve));
  const fake = await startFakeSecretsManager({});
  // Only its environment (dummy credentials, no local AWS configuration), pointed at the silent server.
  const env = fake.env({ AWS_ENDPOINT_URL_SECRETS_MANAGER: `http://127.0.0.1:${(silent.address() as { port: number }).port}` });
  await fake.close();
  Object.assign(process.env, env);
});

afterAll(async () => {
  process.env = savedEnv;
  for (const socket of sockets) socket.destroy();
  await new Promise((resolve) => silent.close(resolve));
});

it("gives up on an endpoint that never answers after the request timeout, saying which secret and what to check", async () => {
  const read = readRoleSecret(SECRET_ARN, { requestTimeoutMs: 300, maxAttempts: 2 });
  await expect(read).rejects.toThrow(ConnectionSettingsError);
  await expect(read).rejects.toThrow(
    `Secrets Manager did not answer reading secret ${SECRET_ARN} (TimeoutError): check the network to it (a VPC endpoint, a proxy, AWS_ENDPOINT_URL_SECRETS_MANAGER).`,
  );
  // Both attempts reached the endpoint: the timeout ends each one, the retry strategy makes the second.
  expect(sockets.length).toBe(2);
}, 30_000);
