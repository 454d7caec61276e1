// The stacks in HCL, as `npm run synth:hcl` writes them: the snapshots reviewers read, formatted as
// `terraform fmt` wants, and the same configuration as cdk.tf.json: parsed back to JSON by hcl2json
// (HashiCorp's HCL parser), every resource, argument, variable, output, provider and backend is equal,
// so a team can leave CDKTF by committing the HCL and lose nothing.

import { execFile, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "@cdktf/hcl2json";
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

/**
 * What HCL cannot express, or hcl2json writes another way, made alike on both sides: cdktf's "//"
 * metadata (JSON comments); a block's body, which hcl2json always wraps in a list; references
 * (depends_on, lifecycle, provider), which JSON writes as strings and HCL bare; a variable's type;
 * the layout inside an expression that is a single interpolation.
 */
function normalize(value: unknown, key = ""): unknown {
  if (Array.isArray(value)) {
    if (value.length === 1 && typeof value[0] === "object" && value[0] !== null && !Array.isArray(value[0])) return normalize(value[0], key);
    return value.map((item) => normalize(item, key));
  }
  if (typeof value === "object" && value !== null) {
    return Object.fromEntries(
      Object.entries(value)
        .filter(([k]) => k !== "//")
        .map(([k, v]) => [k, normalize(v, k)]),
    );
  }
  if (typeof value === "string" && ["depends_on", "ignore_changes", "replace_triggered_by", "provider", "type"].includes(key)) {
    return value.replace(/^\$\{(.*)\}$/s, "$1");
  }
  if (typeof value === "string" && /^\$\{[\s\S]*\}$/.test(value)) return withoutLayout(value);
  return value;
}

describe("each stack in HCL", () => {
  it.each(STACKS)("%s matches its reviewed snapshot", (name) => {
    expect(hcl[name]).toMatchSnapshot();
  });

  it.each(STACKS)("%s, parsed back by hcl2json, is the same configuration as its cdk.tf.json", async (name) => {
    const parsed = await parse(`${name}.tf`, hcl[name]);
    expect(normalize(parsed)).toEqual(normalize(json[name]));
  });

  it("is compared by a round trip that does see a change (the check is real)", async () => {
    const parsed = await parse("dev.tf", hcl.dev.replace('sslmode          = "require"', 'sslmode          = "disable"'));
    expect(normalize(parsed)).not.toEqual(normalize(json.dev));
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
      const result = await run("terraform", ["fmt", "-check", "-list=true", dir], { env: { ...process.env, CHECKPOINT_DISABLE: "1" } }).catch((error) => error);
      expect({ code: result.code ?? 0, unformatted: String(result.stdout ?? "").trim() }).toEqual({ code: 0, unformatted: "" });
      expect(readdirSync(dir).sort()).toEqual(STACKS.map((name) => `${name}.tf`).sort());
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});

describe("npm run synth:hcl", () => {
  it("writes cdktf.out/stacks/<stack>/cdk.tf for every stack, in place of cdk.tf.json", async () => {
    const outdir = mkdtempSync(join(tmpdir(), "pulse-synth-hcl-"));
    try {
      const { stdout } = await run(process.execPath, ["--import", "tsx", "main.ts", "--hcl"], { cwd: ROOT, env: { ...process.env, CDKTF_OUTDIR: outdir } });
      expect(stdout).toContain(`wrote 7 stacks as HCL: ${outdir}/stacks/<stack>/cdk.tf`);
      for (const name of STACKS) {
        expect(readdirSync(join(outdir, "stacks", name)).filter((f) => f.startsWith("cdk.tf"))).toEqual(["cdk.tf"]);
        expect(readFileSync(join(outdir, "stacks", name, "cdk.tf"), "utf8")).toBe(hcl[name]);
      }
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  }, 60_000);
});
