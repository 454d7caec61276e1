// The runbook (docs/operations.md) and the README name only things that exist: npm scripts, Terraform
// variables and outputs, resource addresses, and the repository variables the workflows read; and the
// runbook covers every operation it promises.

import { execFile } from "node:child_process";
import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../support/local-database";
import { DATABASE_VARIABLES, INSTANCE_VARIABLES } from "../../stacks/operator-variables";
import { synthApp } from "../support/synth";

const runbook = readFileSync(join(ROOT, "docs", "operations.md"), "utf8");
const readme = readFileSync(join(ROOT, "README.md"), "utf8");
const scripts = Object.keys(JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8")).scripts);
const stacks = synthApp();
// prod's two stacks and the bootstrap stack together: the variables, outputs and resources an operator can name.
const prod = {
  variable: { ...stacks.bootstrap.variable, ...stacks["prod-instance"].variable, ...stacks.prod.variable },
  output: { ...stacks["prod-instance"].output, ...stacks.prod.output },
};
const addresses = new Set(
  Object.values(stacks).flatMap((json) =>
    Object.entries(json.resource).flatMap(([type, blocks]) => Object.keys(blocks).map((name) => `${type}.${name}`)),
  ),
);
const workflowText = [join(ROOT, ".github", "workflows"), join(ROOT, ".github", "actions", "reach-database")]
  .flatMap((dir) => readdirSync(dir).map((f) => readFileSync(join(dir, f), "utf8")))
  .join("\n");

const unique = (values: Iterable<string>) => [...new Set(values)].sort();

describe("the runbook", () => {
  it.each([
    "One-time bootstrap",
    "The Terraform state bucket",
    "GitHub OIDC and one role per environment",
    "Deploying an environment",
    "Reaching the database",
    "First deploy into a private VPC",
    "Rotating passwords",
    "Resizing",
    "Major version upgrade",
    "Backup and restore",
    "Destroying dev safely, and why prod cannot be destroyed by accident",
    "Cost per environment",
    "Troubleshooting",
  ])("has a section: %s", (heading) => {
    expect(runbook).toMatch(new RegExp(`^#{2,3} ${heading.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}$`, "m"));
  });

  it("prices every environment with its region and the date of the prices", () => {
    const section = runbook.slice(runbook.indexOf("## Cost per environment"), runbook.indexOf("## Troubleshooting"));
    expect(section).toMatch(/Region: [a-z]{2}-[a-z]+-\d/);
    expect(section).toMatch(/gathered\s+on \d{4}-\d{2}-\d{2}/);
    expect(section).toMatch(/\| item .*\| dev \| staging \| prod \|/);
  });

  it("covers the first-deploy errors: an unreachable host, a parameter group family mismatch, the gp3 IOPS rule", () => {
    const section = runbook.slice(runbook.indexOf("## Troubleshooting"));
    expect(section).toContain("i/o timeout");
    expect(section).toContain("DBParameterGroupFamily");
    expect(section).toContain("IOPS or storage throughput");
  });
});

// Issue 9: what the runbook tells an operator to do is what works against AWS and the real providers
// (the workflows' own order is tested in test/ci/workflows.test.ts, the CLI's in test/stacks/cdktf-cli-order.test.ts).
describe("what the runbook says to do", () => {
  const section = (heading: string) => {
    const start = runbook.indexOf(`## ${heading}`);
    return runbook.slice(start, runbook.indexOf("\n## ", start + 3));
  };

  it("says to set up the CI roles and the state bucket with the bootstrap stack, and pastes no IAM JSON", () => {
    const bootstrap = section("One-time bootstrap");
    expect(bootstrap).toContain("npx cdktf deploy bootstrap");
    expect(bootstrap).toContain("init -migrate-state");
    expect(runbook).not.toMatch(/aws iam (create-role|put-role-policy|attach-role-policy)|aws s3api (create-bucket|put-bucket-policy)/);
  });

  it("says a first deploy from CI needs no manual step, and deploys from a laptop with both stacks in order", () => {
    expect(section("First deploy into a private VPC")).toMatch(/From CI, with no manual step/);
    expect(section("Deploying an environment")).toContain("npx cdktf deploy dev-instance dev");
  });

  it("offers no blue/green upgrade, and says why: RDS blue/green deployments do not support a Secrets Manager-managed master password", () => {
    // RDS User Guide, "Limitations and considerations for blue/green deployments": "Blue/green deployments
    // don't support managing master user passwords with AWS Secrets Manager."
    expect(runbook).not.toMatch(/create-blue-green-deployment|switchover-blue-green-deployment/);
    expect(section("Major version upgrade")).toMatch(/Blue\/green deployments are not an option here/);
  });

  it("says to check the target minor of a major upgrade against the running version's valid targets, and to apply it at once", () => {
    // terraform-aws-modules/terraform-aws-rds#627: "Cannot upgrade postgres from 16.13 to 17.6".
    const upgrade = section("Major version upgrade");
    expect(upgrade).toContain("ValidUpgradeTarget[?IsMajorVersionUpgrade==`true`]");
    expect(upgrade).toContain("--default-only");
    expect(upgrade).toMatch(/allowMajorVersionUpgrade: true`?,\s+`applyImmediately: true`/);
  });

  it("says to grow gp3 storage to 400 GiB only with IOPS and throughput in the same change (hashicorp/terraform-provider-aws#28382)", () => {
    expect(section("Resizing")).toMatch(/\*\*in the same change\*\*/);
    expect(section("Resizing")).toContain("#28382");
  });

  it("says which path is the source of truth for sizing, what a deferred change looks like, and how long Terraform waits", () => {
    const resizing = section("Resizing");
    expect(resizing).toContain("**The source of truth for sizing is `stacks/environments.ts`**");
    expect(resizing).toContain("every plan shows the same change again");
    expect(resizing).toMatch(/at most 60 minutes .* 2 hours/s);
    expect(readme).toContain("**Sizing lives in `stacks/environments.ts`**");
  });

  it("says to tear dev down with both stacks, the database level first, and why staging and prod refuse", () => {
    const destroying = section("Destroying dev safely, and why prod cannot be destroyed by accident");
    expect(destroying).toContain("npx cdktf destroy dev dev-instance");
    expect(destroying).toContain("prevent_destroy");
    expect(destroying).toContain("drop_cascade");
  });
});

describe("names in the runbook and the README", () => {
  const docs = `${runbook}\n${readme}`;

  it("npm scripts exist in package.json", () => {
    const used = unique([...docs.matchAll(/npm run ([a-z:-]+)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(4);
    expect(used.filter((script) => !scripts.includes(script))).toEqual([]);
  });

  it("TF_VAR_… variables are the stacks' input variables", () => {
    const used = unique([...docs.matchAll(/TF_VAR_([a-z0-9_]+)/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(5);
    expect(used.filter((name) => !(name in prod.variable))).toEqual([]);
  });

  it("pulse_analytics_db_… names are the stacks' variables or outputs", () => {
    const used = unique([...docs.matchAll(/\b(pulse_analytics_db_[a-z_]+)\b/g)].map((m) => m[1]).filter((n) => !n.endsWith("_")));
    expect(used.filter((name) => !(name in prod.variable) && !(name in prod.output))).toEqual([]);
  });

  it("the README's variable tables list every operator variable of both stacks, each with its type, and only those", () => {
    const section = readme.slice(readme.indexOf("### Terraform input variables"), readme.indexOf("### Outputs"));
    const listed = [...section.matchAll(/^\| `(pulse_analytics_db_[a-z_]+)` \| ([a-z()]+) \|/gm)].map((m) => [m[1], m[2]]);
    const declared = [...Object.values(INSTANCE_VARIABLES), ...Object.values(DATABASE_VARIABLES)].map((v) => [v.name, v.type]);
    expect(listed.sort()).toEqual(declared.sort());
    for (const [name] of declared) expect(name in prod.variable).toBe(true);
  });

  it("the README's code imports only names its package entry points export", async () => {
    const imports = [...readme.matchAll(/^import \{([^}]+)\} from "(pulse-analytics-postgres[^"]*)";$/gm)].map((m) => ({
      names: m[1].split(",").map((n) => n.trim()),
      from: m[2],
    }));
    expect(imports.map((i) => i.from).sort()).toEqual(
      expect.arrayContaining(["pulse-analytics-postgres", "pulse-analytics-postgres/client", "pulse-analytics-postgres/stacks"]),
    );
    const script = `const imports = ${JSON.stringify(imports)};
      console.log(JSON.stringify(imports.flatMap(({ names, from }) => names.filter((n) => !(n in require(from))).map((n) => from + ": " + n))));`;
    const { stdout } = await promisify(execFile)(process.execPath, ["--conditions=pulse-source", "--import", "tsx", "-e", script], { cwd: ROOT });
    expect(JSON.parse(stdout)).toEqual([]);
  }, 60_000);

  it("the README's Outputs table lists every output of the database stack, and only those", () => {
    const section = readme.slice(readme.indexOf("### Outputs"), readme.indexOf("## Using the construct"));
    const listed = [...section.matchAll(/^\| `(pulse_analytics_db_[a-z_]+)` \|/gm)].map((m) => m[1]);
    expect(listed.sort()).toEqual(Object.keys(stacks.prod.output).sort());
  });

  it("resource addresses exist in the synthesized stacks", () => {
    const used = unique([...docs.matchAll(/\b((?:aws|random|postgresql)_[a-z_]+\.pulse-analytics_[A-Za-z0-9_-]+)\b/g)].map((m) => m[1]));
    expect(used.length).toBeGreaterThan(1);
    expect(used.filter((address) => !addresses.has(address))).toEqual([]);
  });

  it("repository variables are those the workflows read, and every one the workflows read is documented", () => {
    const read = unique([
      ...[...workflowText.matchAll(/vars\.(PULSE_[A-Z_]+)/g)].map((m) => m[1]),
      ...[...workflowText.matchAll(/format\('(PULSE_[A-Z_]+)_\{0\}'/g)].map((m) => `${m[1]}_<ENV>`),
    ]);
    const documented = runbook.slice(runbook.indexOf("### GitHub settings"), runbook.indexOf("## Deploying an environment"));
    const normalize = (name: string) => name.replace(/_(DEV|STAGING|PROD)$/, "_<ENV>");
    const documentedNames = unique([...documented.matchAll(/`(PULSE_[A-Z_]+(?:_<ENV>)?)`/g)].map((m) => normalize(m[1])));
    expect(read.filter((name) => !documentedNames.includes(name))).toEqual([]);
    expect(documentedNames.filter((name) => !read.includes(name))).toEqual([]);
  });
});

describe("the README", () => {
  it("links the runbook and says how changes reach production", () => {
    expect(readme).toContain("(docs/operations.md)");
    expect(readme).toMatch(/How changes reach production/);
  });
});
