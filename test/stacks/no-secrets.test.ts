// No secret value is written into a synthesized stack: passwords are generated or read by Terraform
// at apply time and only referenced, and no output exposes one.

import { synthApp, TerraformJson } from "../support/synth";

const stacks = synthApp({ stateBackend: { bucket: "pulse-tf-state", region: "eu-central-1" } });

/** Every [path, value] string leaf of a JSON document. */
function stringLeaves(value: unknown, path = ""): Array<[string, string]> {
  if (typeof value === "string") return [[path, value]];
  if (Array.isArray(value)) return value.flatMap((v, i) => stringLeaves(v, `${path}[${i}]`));
  if (value && typeof value === "object") return Object.entries(value).flatMap(([k, v]) => stringLeaves(v, `${path}.${k}`));
  return [];
}

const SECRET_KEY = /(^|_)(password|passwd|secret_string|private_key|token|credentials?)($|_)/i;
/** A value that is wholly one Terraform expression, e.g. "${random_password.x.result}". */
const TERRAFORM_EXPRESSION = /^\$\{.*\}$/s;

/** The stacks that hold the database level (one per environment, named after it). */
const DATABASE_STACKS = ["dev", "staging", "prod"];

describe.each(Object.entries(stacks))("the %s stack", (name, json: TerraformJson) => {
  const isDatabaseStack = DATABASE_STACKS.includes(name);

  it("holds no literal under a secret-looking key: each is a Terraform reference", () => {
    const literals = stringLeaves(json).filter(([path, value]) => {
      const key = path
        .split(".")
        .pop()!
        .replace(/\[\d+\]$/, "");
      return SECRET_KEY.test(key) && !TERRAFORM_EXPRESSION.test(value);
    });
    expect(literals).toEqual([]);
  });

  it('builds no secret from a literal inside an expression (jsonencode({ password = "…" }) and the like)', () => {
    const inlined = stringLeaves(json).filter(([, value]) => /"?(password|passwd|secret|token)"?\s*=\s*"/i.test(value));
    expect(inlined).toEqual([]);
  });

  it("passes generated passwords only to the roles and their secrets (database stacks), or has none", () => {
    const users = stringLeaves(json)
      .filter(([, value]) => /random_password\.[^.]+\.result/.test(value))
      .map(([path]) => path.split(".").slice(1, 3).join("."));
    expect([...new Set(users)].sort()).toEqual(isDatabaseStack ? ["resource.aws_secretsmanager_secret_version", "resource.postgresql_role"] : []);
  });

  it("reads the master password only into the postgresql provider, ephemerally (never into state or a saved plan)", () => {
    const readers = stringLeaves(json)
      .filter(([, value]) => /(ephemeral|data)\.aws_secretsmanager_secret_version\.[^.]+\.secret_string/.test(value))
      .map(([path, value]) => [path, value.includes("ephemeral.")]);
    expect(readers).toEqual(isDatabaseStack ? [[".provider.postgresql[0].password", true]] : []);
    expect(json.data?.aws_secretsmanager_secret_version).toBeUndefined();
  });

  it("exposes no secret value in any output", () => {
    for (const [name, output] of Object.entries(json.output)) {
      expect({ name, value: output.value }).not.toEqual({ name, value: expect.stringMatching(/random_password|secret_string|\.password\b/) });
      expect(output.sensitive).toBeUndefined();
    }
  });
});
