// What the cdktf CLI does with an environment's two stacks, run as an operator runs it (the real
// `cdktf` of node_modules, in a child process): deploying the database stack without the instance
// stack, or destroying the instance stack without the database stack, is refused before Terraform
// runs, with a message naming the stack to add. Neither case reaches Terraform or the network.

import { execFile } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../support/local-database";

const run = promisify(execFile);
const CDKTF = join(ROOT, "node_modules", ".bin", "cdktf");

async function cdktf(args: string[]): Promise<{ code: number; output: string }> {
  const outdir = mkdtempSync(join(tmpdir(), "pulse-cdktf-cli-"));
  const env: NodeJS.ProcessEnv = { ...process.env, CHECKPOINT_DISABLE: "1", CI: "1" };
  delete env.PULSE_TF_STATE_BUCKET;
  delete env.PULSE_TF_STATE_REGION;
  try {
    const { stdout, stderr } = await run(CDKTF, [...args, "--auto-approve", "--output", outdir], { cwd: ROOT, env });
    return { code: 0, output: stdout + stderr };
  } catch (error) {
    const failure = error as { code: number; stdout: string; stderr: string };
    return { code: failure.code, output: failure.stdout + failure.stderr };
  } finally {
    rmSync(outdir, { recursive: true, force: true });
  }
}

describe("the cdktf CLI with an environment's two stacks", () => {
  it("refuses `cdktf deploy dev` alone and names the stack to add, dev-instance", async () => {
    const result = await cdktf(["deploy", "dev"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("The following dependencies are not included in the stacks to run: dev-instance.");
  }, 120_000);

  it("refuses `cdktf destroy prod-instance` alone, while prod still depends on it", async () => {
    const result = await cdktf(["destroy", "prod-instance"]);
    expect(result.code).not.toBe(0);
    expect(result.output).toContain("The following dependant stacks are not included in the stacks to run: prod.");
  }, 120_000);
});
