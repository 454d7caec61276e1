// The stacks in HCL, as `npm run synth:hcl` writes them: the snapshots reviewers read, formatted as
// `terraform fmt` wants, and the same configuration as cdk.tf.json: parsed back to JSON by hcl2json
// (HashiCorp's HCL parser), every resource, argument, variable, output, provider and backend is equal,
// so a team can leave CDKTF by committing the HCL and lose nothing.

import { execFile, spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "@cdktf/hcl2json";
import { renderHcl } from "../../stacks/hcl";
import { ROOT } from "../support/local-database";
import { synthAppWithHcl, TerraformJson } from "../support/synth";

const run = promisify(execFile);
let json: Record<string, TerraformJson>;
let hcl: Record<string, string>;
beforeAll(async () => {
  ({ json, hcl } = await synthAppWithHcl());
}, 60_000);

const STACKS = ["bootstrap", "dev", "dev-instance", "prod", "prod-instance", "staging", "staging-instance"];

/**
 * An expression without the spaces terraform fmt adds or removes between its tokens ("{ a = 1 }" and
 * "{a = 1}" are one expression); spaces inside its string literals are kept.
 */
function withoutLayout(text: string): string {
  let out = "";
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      out += char;
      if (char === "\\") out += text[++i] ?? "";
      else if (char === '"') inString = false;
    } else if (char === '"') {
      inString = true;
      out += char;
    } else if (!/\s/.test(char)) out += char;
  }
  return out;
}

/** Whether a JSON-syntax string is one interpolation and nothing else ("${a}", not "${a}-${b}"). */
function isSingleInterpolation(text: string): boolean {
  if (!text.startsWith("${") || !text.endsWith("}")) return false;
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
    } else if (char === '"') inString = true;
    else if (char === "{") depth++;
    else if (char === "}" && --depth === 0) return i === text.length - 1;
  }
  return false;
}

/** Keys whose JSON strings are references written bare in HCL, by where they appear. */
const REFERENCE_KEYS = new Set(["depends_on", "ignore_changes", "replace_triggered_by", "configuration_aliases"]);
/** Keys Terraform reads literally, by their block: hcl2json gives them in template form ("$${" for "${"). */
const LITERAL_KEYS: Record<string, string[]> = { variable: ["default", "description"], output: ["description"] };

/**
 * The differences between a stack's JSON and its HCL parsed back by hcl2json, walking both together.
 * Made alike, and only where they are known to differ in form: cdktf's "//" metadata (JSON
 * comments); a block body, which hcl2json always wraps in a list; references and a variable's type,
 * which JSON writes as strings and HCL bare; the layout inside an expression; literal values, which
 * hcl2json gives as template text.
 */
function differences(json: unknown, parsed: unknown, path: string[] = []): string[] {
  const where = path.join(".");
  const key = path[path.length - 1] ?? "";
  const section = path[0];
  if (Array.isArray(parsed) && parsed.length === 1 && isObject(json) && isObject(parsed[0])) return differences(json, parsed[0], path);
  if (isObject(json) && isObject(parsed)) {
    const jsonKeys = Object.keys(json)
      .filter((k) => k !== "//")
      .sort();
    const parsedKeys = Object.keys(parsed).sort();
    if (JSON.stringify(jsonKeys) !== JSON.stringify(parsedKeys))
      return [`${where}: keys ${JSON.stringify(jsonKeys)} became ${JSON.stringify(parsedKeys)}`];
    return jsonKeys.flatMap((k) => differences(json[k], parsed[k], [...path, k]));
  }
  if (Array.isArray(json) && Array.isArray(parsed)) {
    if (json.length !== parsed.length) return [`${where}: ${json.length} items became ${parsed.length}`];
    return json.flatMap((item, i) => differences(item, parsed[i], [...path, String(i)]));
  }
  if (typeof json === "string" && typeof parsed === "string") {
    const reference =
      REFERENCE_KEYS.has(key) ||
      REFERENCE_KEYS.has(path[path.length - 2] ?? "") ||
      (key === "provider" && (section === "resource" || section === "data" || section === "ephemeral") && path.length === 4);
    const variableType = section === "variable" && key === "type" && path.length === 3;
    const literal = LITERAL_KEYS[section]?.includes(path[2]) || (section === "terraform" && path.includes("backend"));
    let same: boolean;
    if (reference || variableType) same = parsed.replace(/^\$\{(.*)\}$/s, "$1") === json;
    else if (literal) same = parsed.replace(/([$%])\1\{/g, "$1{") === json;
    else if (isSingleInterpolation(json) && isSingleInterpolation(parsed)) same = withoutLayout(parsed) === withoutLayout(json);
    else same = parsed === json;
    return same ? [] : [`${where}: ${JSON.stringify(json)} became ${JSON.stringify(parsed)}`];
  }
  return JSON.stringify(json) === JSON.stringify(parsed) ? [] : [`${where}: ${JSON.stringify(json)} became ${JSON.stringify(parsed)}`];
}

function isObject(value: unknown): value is Record<string, unknown> {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

describe("each stack in HCL", () => {
  it.each(STACKS)("%s matches its reviewed snapshot", (name) => {
    expect(hcl[name]).toMatchSnapshot();
  });

  it.each(STACKS)("%s, parsed back by hcl2json, is the same configuration as its cdk.tf.json", async (name) => {
    const parsed = await parse(`${name}.tf`, hcl[name]);
    expect(differences(json[name], parsed)).toEqual([]);
  });

  it("is compared by a round trip that does see a change (the check is real)", async () => {
    const parsed = await parse("dev.tf", hcl.dev.replace('sslmode          = "require"', 'sslmode          = "disable"'));
    expect(differences(json.dev, parsed)).toEqual(['provider.postgresql.0.sslmode: "require" became "disable"']);
  });

  it("is deterministic: the same bytes from a second synthesis", async () => {
    expect((await synthAppWithHcl()).hcl).toEqual(hcl);
  }, 60_000);
});

const terraformAvailable = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
if (!terraformAvailable) console.warn("terraform is not on PATH: terraform fmt -check of the HCL stacks is skipped.");

(terraformAvailable ? describe : describe.skip)("terraform fmt -check", () => {
  it("accepts every stack's HCL as formatted", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-hcl-fmt-"));
    try {
      for (const name of STACKS) writeFileSync(join(dir, `${name}.tf`), hcl[name]);
      const result = await run("terraform", ["fmt", "-check", "-list=true", dir], { env: { ...process.env, CHECKPOINT_DISABLE: "1" } }).catch(
        (error) => error,
      );
      expect({ code: result.code ?? 0, unformatted: String(result.stdout ?? "").trim() }).toEqual({ code: 0, unformatted: "" });
      expect(readdirSync(dir).sort()).toEqual(STACKS.map((name) => `${name}.tf`).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

/**
 * Strings that are easy to get wrong, as outputs: Terraform plans the JSON and the HCL, and the values
 * it would output must be the same (literal "${" in a default, templates with nested quotes and
 * escapes, an expression over lines, strip markers, keys that are keywords or templates).
 */
const TRICKY: Record<string, unknown> = {
  variable: {
    literal: { type: "string", default: "a $${b} and ${c} %{d}", description: "says ${x} literally" },
    object: { type: "map(string)", default: { "${k}": "v", for: "w" } },
  },
  locals: { name: "pulse" },
  output: {
    literal: { value: "${var.literal}" },
    object: { value: "${var.object}" },
    template: { value: 'x-${upper("a\\\\b\\"c")}-$${y}-%{ if true }yes%{ endif }\n\ttab é' },
    nested: { value: '${replace("a$${b}", "$${", "X")}' },
    multiline: { value: "${1 +\n 2}" },
    stripped: { value: "${~ local.name ~}" },
    keys: { value: { for: 1, "a b": 2, "${local.name}": 3, null: 4 }, description: "keys ${x}" },
  },
};

(terraformAvailable ? describe : describe.skip)("renderHcl on strings that are easy to get wrong", () => {
  async function plannedOutputs(dir: string, file: string, text: string): Promise<unknown> {
    mkdirSync(dir);
    writeFileSync(join(dir, file), text);
    const env = { ...process.env, CHECKPOINT_DISABLE: "1", TF_IN_AUTOMATION: "1" };
    await run("terraform", ["init", "-input=false", "-no-color"], { cwd: dir, env });
    await run("terraform", ["plan", "-input=false", "-no-color", "-out=plan"], { cwd: dir, env });
    const { stdout } = await run("terraform", ["show", "-json", "plan"], { cwd: dir, env });
    return JSON.parse(stdout).planned_values.outputs;
  }

  it("gives Terraform the same values from the HCL as from the JSON", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-hcl-values-"));
    try {
      const hclText = await renderHcl(TRICKY as any, new Set());
      const fromJson = await plannedOutputs(join(dir, "json"), "main.tf.json", JSON.stringify(TRICKY));
      expect(await plannedOutputs(join(dir, "hcl"), "main.tf", hclText)).toEqual(fromJson);
      expect(fromJson).toMatchObject({ literal: { value: "a $${b} and ${c} %{d}" }, multiline: { value: 3 }, stripped: { value: "pulse" } });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("npm run synth:hcl", () => {
  it("writes cdktf.out/stacks/<stack>/cdk.tf for every stack, in place of cdk.tf.json, and npm run synth switches back", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "pulse-synth-hcl-"));
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", "main.ts", "--hcl"], {
        cwd: ROOT,
        env: { ...process.env, CDKTF_OUTDIR: outdir },
      });
      expect(stdout).toContain(`wrote 7 stacks as HCL: ${outdir}/stacks/<stack>/cdk.tf`);
      for (const name of STACKS) {
        expect(readdirSync(join(outdir, "stacks", name)).filter((f) => f.startsWith("cdk.tf"))).toEqual(["cdk.tf"]);
        expect(readFileSync(join(outdir, "stacks", name, "cdk.tf"), "utf8")).toBe(hcl[name]);
      }
      // And back: npm run synth (as cdktf deploy runs it) leaves the JSON alone, not both.
      await run(process.execPath, ["--import", "tsx", "main.ts"], { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir } });
      for (const name of STACKS) expect(readdirSync(join(outdir, "stacks", name)).filter((f) => f.startsWith("cdk.tf"))).toEqual(["cdk.tf.json"]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
