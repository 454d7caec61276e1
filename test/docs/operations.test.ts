// The runbook (docs/operations.md) and the README name only things that exist: npm scripts, Terraform
// variables and outputs, resource addresses, and the repository variables the workflows read; and the
// runbook covers every operation it promises.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "../support/local-database";
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
  Object.values(stacks).flatMap((json) => Object.entries(json.resource).flatMap(([type, blocks]) => Object.keys(blocks).map((name) => `${type}.${name}`))),
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
