// The synthesized stacks as real Terraform reads them: `terraform validate` with a real hashicorp/aws
// provider, installed from a filesystem mirror (the registry is out of reach here). The mirror holds
// whatever aws provider the machine has, not necessarily the pinned 6.25.0: the stacks are validated
// against that version's schema, with the one known difference between 5.x and 6.x normalized below.
// Without terraform or a mirrored aws provider this file is skipped, with a warning.
//
// It catches what no JSON assertion does: an escaped-or-not "${…}" in a policy, a cycle between
// variable validations, an ephemeral block or expression Terraform does not accept.

import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { synthApp, TerraformJson } from "../support/synth";

const run = promisify(execFile);

/** A filesystem mirror (`<dir>/registry.terraform.io/hashicorp/aws/<version>/linux_amd64`) and the aws version in it. */
function findAwsProviderMirror(): { dir: string; version: string } | undefined {
  const candidates = [process.env.PULSE_TF_PLUGIN_MIRROR, "/opt/tf-plugins", join(homedir(), ".terraform.d", "plugins")].filter(Boolean) as string[];
  for (const dir of candidates) {
    const versions = join(dir, "registry.terraform.io", "hashicorp", "aws");
    if (!existsSync(versions)) continue;
    const version = readdirSync(versions).filter((v) => existsSync(join(versions, v, `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`))).sort().pop();
    if (version) return { dir, version };
  }
  return undefined;
}

const terraformAvailable = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
const mirror = terraformAvailable ? findAwsProviderMirror() : undefined;
if (!mirror) {
  console.warn(
    terraformAvailable
      ? "no hashicorp/aws provider in a filesystem mirror (PULSE_TF_PLUGIN_MIRROR, /opt/tf-plugins, ~/.terraform.d/plugins): terraform validate of the stacks is skipped."
      : "terraform is not on PATH: terraform validate of the stacks is skipped.",
  );
}

/** A stack made ready for `terraform validate` against the mirrored provider: no backend, its aws version. */
function forMirror(json: TerraformJson, version: string): TerraformJson {
  const copy = JSON.parse(JSON.stringify(json));
  delete copy.terraform.backend;
  copy.terraform.required_providers.aws.version = version;
  let text = JSON.stringify(copy);
  // hashicorp/aws 6.0 renamed data "aws_region"'s `name` to `region`; 5.x has only `name`.
  if (Number(version.split(".")[0]) < 6) text = text.replace(/(\$\{data\.aws_region\.[^.}]+)\.region\}/g, "$1.name}");
  return JSON.parse(text);
}

/**
 * What the database stack asks of Terraform and the aws provider without the postgresql and random
 * providers (not mirrored): its ephemeral block, the remote state it reads, and the expressions the
 * postgresql provider is configured with, as locals.
 */
function databaseStackCore(json: TerraformJson, version: string): TerraformJson {
  const provider = json.provider.postgresql[0];
  return forMirror(
    {
      terraform: { required_version: json.terraform.required_version, required_providers: { aws: json.terraform.required_providers.aws } },
      provider: { aws: json.provider.aws },
      variable: json.variable,
      data: json.data,
      ephemeral: json.ephemeral,
      locals: { postgresql_host: provider.host, postgresql_port: provider.port, postgresql_username: provider.username, postgresql_password: provider.password },
    } as unknown as TerraformJson,
    version,
  );
}

(mirror ? describe : describe.skip)(`terraform validate with the mirrored hashicorp/aws ${mirror?.version ?? ""}`, () => {
  const stacks = synthApp();
  const workdir = mkdtempSync(join(tmpdir(), "pulse-validate-"));
  const cliConfig = join(workdir, "cli.tfrc");
  const env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };

  beforeAll(() => writeFileSync(cliConfig, `provider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror!.dir)}\n  }\n}\n`));
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  async function validate(name: string, json: TerraformJson): Promise<{ valid: boolean; errors: string[] }> {
    const dir = join(workdir, name);
    mkdirSync(dir);
    writeFileSync(join(dir, "main.tf.json"), JSON.stringify(json));
    await run("terraform", ["init", "-backend=false", "-input=false", "-no-color"], { cwd: dir, env });
    const { stdout } = await run("terraform", ["validate", "-json", "-no-color"], { cwd: dir, env }).catch((error) => error);
    const result = JSON.parse(stdout);
    return { valid: result.valid, errors: result.diagnostics.filter((d: any) => d.severity === "error").map((d: any) => `${d.summary}: ${d.detail}`) };
  }

  it.each(["bootstrap", "dev-instance", "staging-instance", "prod-instance"])(
    "accepts the %s stack whole",
    async (name) => {
      expect(await validate(name, forMirror(stacks[name], mirror!.version))).toEqual({ valid: true, errors: [] });
    },
    120_000,
  );

  it.each(["dev", "staging", "prod"])(
    "accepts the %s stack's ephemeral master secret, remote state and provider expressions",
    async (name) => {
      expect(await validate(name, databaseStackCore(stacks[name], mirror!.version))).toEqual({ valid: true, errors: [] });
    },
    120_000,
  );

  it("refuses an ephemeral value where Terraform would store it (the check is real)", async () => {
    const core = databaseStackCore(stacks.dev, mirror!.version);
    core.output = { leaked: { value: "${local.postgresql_password}" } };
    const result = await validate("leak", core);
    expect(result.valid).toBe(false);
    expect(result.errors.join("\n")).toMatch(/Ephemeral value not allowed/);
  }, 120_000);
});
