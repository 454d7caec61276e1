// `npm run synth` as a person runs it: the app's entry point in a child process, writing real files.

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";

const run = promisify(execFile);
const ROOT = join(__dirname, "..");

/** Runs main.ts like `npm run synth`, into a fresh output directory, with `env` added. */
async function synth(env: Record<string, string> = {}): Promise<{ outdir: string; code: number; stdout: string; stderr: string }> {
  const outdir = mkdtempSync(join(tmpdir(), "pulse-main-"));
  const childEnv: NodeJS.ProcessEnv = { ...process.env, CDKTF_OUTDIR: outdir, ...env };
  for (const name of ["PULSE_TF_STATE_BUCKET", "PULSE_TF_STATE_REGION"]) if (!(name in env)) delete childEnv[name];
  try {
    const { stdout, stderr } = await run(process.execPath, ["--import", "tsx", "main.ts"], { cwd: ROOT, env: childEnv });
    return { outdir, code: 0, stdout, stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { outdir, code: failure.code, stdout: failure.stdout, stderr: failure.stderr };
  }
}

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

const outdirs: string[] = [];
afterAll(() => outdirs.forEach((dir) => rmSync(dir, { recursive: true, force: true })));

describe("npm run synth", () => {
  it("writes cdktf.out/stacks/<stack>/cdk.tf.json for bootstrap and each environment's two stacks, and says how to turn on S3 state", async () => {
    const result = await synth();
    outdirs.push(result.outdir);
    expect(result.code).toBe(0);
    expect(readdirSync(join(result.outdir, "stacks")).sort()).toEqual([
      "bootstrap",
      "dev",
      "dev-instance",
      "prod",
      "prod-instance",
      "staging",
      "staging-instance",
    ]);
    for (const env of ["bootstrap", "dev", "staging", "prod", "dev-instance", "staging-instance", "prod-instance"]) {
      const json = JSON.parse(readFileSync(join(result.outdir, "stacks", env, "cdk.tf.json"), "utf8"));
      expect(json.terraform.backend).toHaveProperty("local");
    }
    // On stdout, an informational line: the cdktf CLI shows the app's stderr as "[ERROR] default - …".
    expect({ stdout: result.stdout.trim(), stderr: result.stderr }).toEqual({
      stdout: "note: local Terraform state (terraform.<stack>.tfstate); set PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION for the S3 backend.",
      stderr: "",
    });
  });

  it("uses the S3 backend when PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION are set", async () => {
    const result = await synth({ PULSE_TF_STATE_BUCKET: "pulse-tf-state", PULSE_TF_STATE_REGION: "eu-central-1" });
    outdirs.push(result.outdir);
    expect(result.code).toBe(0);
    const json = JSON.parse(readFileSync(join(result.outdir, "stacks", "prod", "cdk.tf.json"), "utf8"));
    expect(json.terraform.backend.s3).toMatchObject({ bucket: "pulse-tf-state", region: "eu-central-1", use_lockfile: true, encrypt: true });
    expect(result.stderr).toBe("");
  });

  it("refuses a half-configured state backend with one line and writes nothing", async () => {
    const result = await synth({ PULSE_TF_STATE_BUCKET: "pulse-tf-state" });
    outdirs.push(result.outdir);
    expect(result.code).toBe(1);
    expect(result.stderr).toBe(
      "error: PULSE_TF_STATE_REGION is not set but PULSE_TF_STATE_BUCKET is: set both for S3 state, or neither for local state.\n",
    );
    expect(filesUnder(result.outdir)).toEqual([]);
  });

  it("copies no credential from its environment into what it writes", async () => {
    const canaries = {
      AWS_SECRET_ACCESS_KEY: "canary-aws-secret-3f9a7c",
      AWS_SESSION_TOKEN: "canary-session-token-8d2e41",
      PGPASSWORD: "canary-pgpassword-51b0aa",
      PULSE_ANALYTICS_DATABASE_URL: "postgresql://pulse_analytics_app:canary-url-password-77c1@db:5432/pulse_analytics",
      TF_VAR_pulse_analytics_db_admin_host: "canary-admin-host-0e5d",
    };
    const result = await synth(canaries);
    outdirs.push(result.outdir);
    expect(result.code).toBe(0);
    const written = filesUnder(result.outdir)
      .map((file) => readFileSync(file, "utf8"))
      .join("\n");
    expect(written.length).toBeGreaterThan(10_000);
    for (const value of Object.values(canaries)) {
      expect(written).not.toContain(value.match(/canary-[a-z-]+-[0-9a-f]+/)![0]);
    }
  });
});
