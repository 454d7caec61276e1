// The synthesized stacks as real Terraform reads them: `terraform validate` with real providers,
// installed from a filesystem mirror (the registry is out of reach here). GitHub's CI mirrors the
// pinned builds (`terraform providers mirror`, PULSE_TF_PLUGIN_MIRROR) and every stack is validated
// whole. A machine may instead hold some aws provider in /opt/tf-plugins or ~/.terraform.d/plugins,
// not necessarily the pinned 6.25.0: then the stacks are validated against that version's schema, with
// the one known difference between 5.x and 6.x normalized below, and without the postgresql and random
// providers the database stacks are validated in part. Without terraform or any mirrored aws provider
// this file is skipped with a warning; a PULSE_TF_PLUGIN_MIRROR without one is an error, not a skip.
//
// The stacks are validated together, each a child module of one root (one init, one validate: the aws
// provider's schema, most of a validation's time, is loaded once). Child and root modules are checked
// alike except for blocks only a root may hold (backend, import, cloud), which the stacks do not use.
//
// It catches what no JSON assertion does: an escaped-or-not "${…}" in a policy, a cycle between
// variable validations, an ephemeral block or expression Terraform does not accept.

import { execFile, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from "node:fs";
import { homedir, tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { environments } from "../../stacks";
import { synthApp, synthAppWithHcl, TerraformJson } from "../support/synth";

const run = promisify(execFile);

const PLATFORM = `${process.platform}_${process.arch === "x64" ? "amd64" : process.arch}`;

/** The newest version of a provider in a filesystem mirror (`<dir>/registry.terraform.io/<namespace>/<name>/<version>/<platform>`). */
function mirroredVersion(dir: string, provider: string): string | undefined {
  const versions = join(dir, "registry.terraform.io", provider);
  if (!existsSync(versions)) return undefined;
  return readdirSync(versions)
    .filter((v) => existsSync(join(versions, v, PLATFORM)))
    .sort()
    .pop();
}

/** The mirror to use and the aws version in it; whether it also has the database stacks' providers. */
function findMirror(): { dir: string; version: string; databaseProviders: boolean } | undefined {
  const explicit = process.env.PULSE_TF_PLUGIN_MIRROR;
  const candidates = explicit ? [explicit] : ["/opt/tf-plugins", join(homedir(), ".terraform.d", "plugins")];
  for (const dir of candidates) {
    const version = mirroredVersion(dir, "hashicorp/aws");
    if (version) {
      const databaseProviders = Boolean(mirroredVersion(dir, "cyrilgdn/postgresql") && mirroredVersion(dir, "hashicorp/random"));
      return { dir, version, databaseProviders };
    }
  }
  if (explicit)
    throw new Error(
      `PULSE_TF_PLUGIN_MIRROR=${explicit} holds no hashicorp/aws provider for ${PLATFORM}: run \`terraform providers mirror\` into it.`,
    );
  return undefined;
}

const terraformAvailable = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
const mirror = terraformAvailable ? findMirror() : undefined;
if (!mirror) {
  console.warn(
    terraformAvailable
      ? "no hashicorp/aws provider in a filesystem mirror (/opt/tf-plugins, ~/.terraform.d/plugins, or PULSE_TF_PLUGIN_MIRROR): terraform validate of the stacks is skipped."
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
  // (Also inside an expression, as in the connect policies' formatlist.)
  if (Number(version.split(".")[0]) < 6) text = text.replace(/(data\.aws_region\.[A-Za-z0-9_-]+)\.region\b/g, "$1.name");
  return JSON.parse(text);
}

/** The same for a stack's HCL: the mirrored aws version, and for 5.x, data "aws_region"'s `name`. */
function hclForMirror(hcl: string, version: string): string {
  let text = hcl.replace(/(aws = \{\s*source\s*=\s*"aws"\s*version\s*=\s*)"[^"]+"/, `$1"${version}"`);
  if (Number(version.split(".")[0]) < 6) text = text.replace(/(data\.aws_region\.[A-Za-z0-9_-]+)\.region\b/g, "$1.name");
  return text;
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
      locals: {
        postgresql_host: provider.host,
        postgresql_port: provider.port,
        postgresql_username: provider.username,
        postgresql_password: provider.password,
      },
    } as unknown as TerraformJson,
    version,
  );
}

(mirror ? describe : describe.skip)(`terraform validate with the mirrored hashicorp/aws ${mirror?.version ?? ""}`, () => {
  const stacks = synthApp();
  let hclStacks: Record<string, string>;
  const workdir = mkdtempSync(join(tmpdir(), "pulse-validate-"));
  const cliConfig = join(workdir, "cli.tfrc");
  const env = { ...process.env, TF_CLI_CONFIG_FILE: cliConfig, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };

  beforeAll(() => {
    // A plugin cache: each `terraform init` links the provider (the aws one is 700 MB) instead of copying it.
    const cache = join(workdir, "plugin-cache");
    mkdirSync(cache);
    writeFileSync(
      cliConfig,
      `plugin_cache_dir = ${JSON.stringify(cache)}\nprovider_installation {\n  filesystem_mirror {\n    path = ${JSON.stringify(mirror!.dir)}\n  }\n}\n`,
    );
  });
  afterAll(() => rmSync(workdir, { recursive: true, force: true }));

  /** Terraform's errors: each "summary: detail", prefixed with the file it is in when it names one. */
  async function validateDir(dir: string): Promise<Array<{ file: string | undefined; error: string }>> {
    await run("terraform", ["init", "-backend=false", "-input=false", "-no-color"], { cwd: dir, env });
    const { stdout } = await run("terraform", ["validate", "-json", "-no-color"], { cwd: dir, env }).catch((error) => error);
    const result = JSON.parse(stdout);
    return result.diagnostics
      .filter((d: any) => d.severity === "error")
      .map((d: any) => ({ file: d.range?.filename, error: `${d.summary}: ${d.detail}` }));
  }

  /**
   * Every stack as a child module of one root, so one init and one validate load the aws provider's
   * schema once instead of once per stack (most of the time a validation takes). A variable without a
   * default is passed from a root variable of the same type, unknown to validate as in a root module.
   * Returns each stack's errors, and those Terraform could not place in a stack (given to every one).
   */
  async function validateAsModules(
    dirName: string,
    configs: Record<string, TerraformJson>,
    /** Modules given as HCL (main.tf), with the JSON of the same stack for their variables. */
    hclModules: Record<string, { hcl: string; json: TerraformJson }> = {},
  ): Promise<Record<string, string[]>> {
    const root = join(workdir, dirName);
    const rootJson: { variable: Record<string, object>; module: Record<string, Record<string, string>> } = { variable: {}, module: {} };
    const modules = [
      ...Object.entries(configs).map(([name, json]) => ({ name, json, file: "main.tf.json", text: JSON.stringify(json) })),
      ...Object.entries(hclModules).map(([name, { hcl, json }]) => ({ name, json, file: "main.tf", text: hcl })),
    ];
    for (const { name, json, file, text } of modules) {
      mkdirSync(join(root, name), { recursive: true });
      writeFileSync(join(root, name, file), text);
      const call: Record<string, string> = { source: `./${name}` };
      for (const [variable, spec] of Object.entries((json as { variable?: Record<string, { type?: string; default?: unknown }> }).variable ?? {})) {
        if ("default" in spec) continue;
        const rootVariable = `${name.replace(/-/g, "_")}__${variable}`;
        rootJson.variable[rootVariable] = { type: spec.type };
        call[variable] = `\${var.${rootVariable}}`;
      }
      rootJson.module[name] = call;
    }
    // Terraform refuses an empty "variable" object.
    writeFileSync(join(root, "main.tf.json"), JSON.stringify(Object.keys(rootJson.variable).length > 0 ? rootJson : { module: rootJson.module }));
    const diagnostics = await validateDir(root);
    const names = modules.map((m) => m.name);
    const unplaced = diagnostics.filter((d) => !names.some((name) => d.file?.startsWith(`${name}/`))).map((d) => d.error);
    return Object.fromEntries(
      names.map((name) => [name, [...diagnostics.filter((d) => d.file?.startsWith(`${name}/`)).map((d) => d.error), ...unplaced]]),
    );
  }

  const INSTANCE_LEVEL = ["bootstrap", "dev-instance", "staging-instance", "prod-instance"];
  const DATABASE_LEVEL = ["dev", "staging", "prod"];
  let errorsByStack: Record<string, string[]>;
  beforeAll(async () => {
    hclStacks = (await synthAppWithHcl()).hcl;
    const configs: Record<string, TerraformJson> = {};
    for (const name of INSTANCE_LEVEL) configs[name] = forMirror(stacks[name], mirror!.version);
    for (const name of DATABASE_LEVEL) {
      configs[name] = mirror!.databaseProviders ? forMirror(stacks[name], mirror!.version) : databaseStackCore(stacks[name], mirror!.version);
    }
    // prod with the app role on IAM tokens: its rds-db:connect policy, built from the instance's outputs.
    const iamProd = synthApp({ environments: { ...environments, prod: { ...environments.prod, iamAuthenticatedRoles: ["app"] } } }).prod;
    configs["prod-iam-policy"] = forMirror(
      { ...databaseStackCore(iamProd, mirror!.version), resource: { aws_iam_policy: iamProd.resource.aws_iam_policy } },
      mirror!.version,
    );
    // The HCL of `npm run synth:hcl`, made ready for the mirror as forMirror does for the JSON.
    const hclModules: Record<string, { hcl: string; json: TerraformJson }> = {};
    for (const name of mirror!.databaseProviders ? [...INSTANCE_LEVEL, ...DATABASE_LEVEL] : INSTANCE_LEVEL) {
      hclModules[`${name}-hcl`] = { hcl: hclForMirror(hclStacks[name], mirror!.version), json: stacks[name] };
    }
    errorsByStack = await validateAsModules("stacks", configs, hclModules);
  }, 180_000);

  it.each(mirror?.databaseProviders ? [...INSTANCE_LEVEL, ...DATABASE_LEVEL] : INSTANCE_LEVEL)(
    "accepts the %s stack in HCL, as npm run synth:hcl writes it",
    (name) => {
      expect(errorsByStack[`${name}-hcl`]).toEqual([]);
    },
  );

  it.each(INSTANCE_LEVEL)("accepts the %s stack whole", (name) => {
    expect(errorsByStack[name]).toEqual([]);
  });

  it.each(DATABASE_LEVEL)(
    mirror?.databaseProviders
      ? "accepts the %s stack whole, postgresql and random providers included"
      : "accepts the %s stack's ephemeral master secret, remote state and provider expressions (postgresql and random not mirrored)",
    (name) => {
      expect(errorsByStack[name]).toEqual([]);
    },
  );

  it("accepts the rds-db:connect policy of a login role on IAM tokens (prod with iamAuthenticatedRoles)", () => {
    expect(errorsByStack["prod-iam-policy"]).toEqual([]);
  });

  it("refuses an ephemeral value where Terraform would store it, in the stack that does so only (the check is real)", async () => {
    const leaking = databaseStackCore(stacks.dev, mirror!.version);
    leaking.output = { leaked: { value: "${local.postgresql_password}" } };
    const result = await validateAsModules("leak", { dev: databaseStackCore(stacks.dev, mirror!.version), leaking });
    expect(result.dev).toEqual([]);
    expect(result.leaking.join("\n")).toMatch(/Ephemeral value not allowed/);
  }, 120_000);
});
