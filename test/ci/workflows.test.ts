// The delivery pipeline (.github/): every workflow and action passes a GitHub Actions schema validator,
// applies only saved plans behind their environments, reaches AWS through OIDC only, and asks for no
// more permission than each job needs.

import { execFile } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse } from "yaml";
import { DB_INSTANCE_TIMEOUTS } from "../../src/constructs/pulse-analytics-postgres";
import { CI_ROLE_SESSION_SECONDS } from "../../stacks/bootstrap-stack";
import { ROOT } from "../support/local-database";

const run = promisify(execFile);
const VALIDATOR = join(ROOT, "node_modules", "@action-validator", "cli", "cli.mjs");
const WORKFLOWS = join(ROOT, ".github", "workflows");
const workflowFiles = readdirSync(WORKFLOWS)
  .filter((f) => f.endsWith(".yml"))
  .map((f) => join(WORKFLOWS, f));
const actionFiles = [join(ROOT, ".github", "actions", "reach-database", "action.yml")];
const load = (name: string) => parse(readFileSync(join(WORKFLOWS, name), "utf8"));
const pipeline = load("pulse-analytics.yml");
const plan = load("terraform-plan.yml");
const apply = load("terraform-apply.yml");

async function validate(file: string): Promise<{ ok: boolean; output: string }> {
  try {
    await run(process.execPath, [VALIDATOR, file]);
    return { ok: true, output: "" };
  } catch (error) {
    const failure = error as { stdout: string; stderr: string };
    return { ok: false, output: failure.stdout + failure.stderr };
  }
}

/**
 * Each action's `runs.using` at the major the workflows use, read from the action's action.yml at that
 * tag (GitHub runs JavaScript actions on the Node named there; node20 actions run on a Node that
 * reached end of life on 2026-04-30). checkout v7.0.1, setup-node v7.0.0, upload-artifact v7.0.0,
 * download-artifact v8.0.1, configure-aws-credentials v6.2.3, setup-terraform v4.0.1: all "node24".
 */
const ACTION_RUNTIMES: Record<string, string> = {
  "actions/checkout@v7": "node24",
  "actions/setup-node@v7": "node24",
  "actions/upload-artifact@v7": "node24",
  "actions/download-artifact@v8": "node24",
  "aws-actions/configure-aws-credentials@v6": "node24",
  "hashicorp/setup-terraform@v4": "node24",
};

/** Every `uses:` of a step or job in a parsed workflow or composite action. */
function usesOf(document: any): string[] {
  const steps = [...Object.values(document.jobs ?? {}).flatMap((job: any) => [job, ...(job.steps ?? [])]), ...(document.runs?.steps ?? [])];
  return steps.map((step: any) => step.uses).filter((uses): uses is string => typeof uses === "string");
}

describe("the workflow files", () => {
  it("use only actions whose major runs on Node 24, and run the project on the Node of .nvmrc", () => {
    const all = [...workflowFiles, ...actionFiles].flatMap((file) => usesOf(parse(readFileSync(file, "utf8"))));
    const external = [...new Set(all.filter((uses) => !uses.startsWith("./")))].sort();
    expect(external.map((uses) => [uses, ACTION_RUNTIMES[uses] ?? "not checked"])).toEqual(external.map((uses) => [uses, "node24"]));
    const setupNode = pipeline.jobs.test.steps.find((step: any) => String(step.uses).startsWith("actions/setup-node@"));
    expect(setupNode.with["node-version"]).toBe(readFileSync(join(ROOT, ".nvmrc"), "utf8").trim());
  });

  it.each([...workflowFiles, ...actionFiles].map((f) => [f.slice(ROOT.length + 1), f]))(
    "%s passes the GitHub Actions schema validator",
    async (_name, file) => {
      expect(await validate(file)).toEqual({ ok: true, output: "" });
    },
  );

  it("are checked by a validator that does reject a broken workflow", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-workflow-"));
    try {
      const broken = join(dir, "broken.yml");
      writeFileSync(
        broken,
        "on: push\njobs:\n  x:\n    runs-on: ubuntu-24.04\n    steps:\n      - uses: actions/checkout@v4\n        run: echo both\n",
      );
      expect((await validate(broken)).ok).toBe(false);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe("the pipeline", () => {
  const steps = (job: { steps: Array<Record<string, unknown>> }) => job.steps;
  const runs = (job: { steps: Array<Record<string, unknown>> }) =>
    steps(job)
      .filter((s) => s.run)
      .map((s) => String(s.run));

  it("tests every pull request as CI does: npm ci, type check, synth, npm test with the pinned providers mirrored, and keeps the stacks", () => {
    expect(pipeline.on).toHaveProperty("pull_request");
    expect(runs(pipeline.jobs.test)).toEqual([
      "npm ci",
      "npm run typecheck",
      "npm run synth",
      'terraform -chdir=cdktf.out/stacks/prod providers mirror "$RUNNER_TEMP/terraform-providers"',
      "npm test",
    ]);
    // With a mirror named, test/stacks/terraform-validate.test.ts must validate every stack, not skip.
    expect(steps(pipeline.jobs.test).find((s) => s.run === "npm test")).toMatchObject({
      env: { PULSE_TF_PLUGIN_MIRROR: "${{ runner.temp }}/terraform-providers" },
    });
    const upload = steps(pipeline.jobs.test).find((s) => String(s.uses).startsWith("actions/upload-artifact"));
    expect(upload).toMatchObject({ with: { name: "cdktf-out", path: "cdktf.out/stacks" } });
  });

  it("plans every environment on main, and only dev on a pull request", () => {
    expect(pipeline.jobs.plan).toMatchObject({
      uses: "./.github/workflows/terraform-plan.yml",
      strategy: { matrix: { environment: '${{ fromJSON(github.event_name == \'pull_request\' && \'["dev"]\' || \'["dev","staging","prod"]\') }}' } },
    });
  });

  it("plans both stacks of the environment with Terraform 1.11, refusing any without the S3 backend, and keeps main's saved plan of the instance stack", () => {
    const job = plan.jobs.plan;
    expect(job.defaults.run["working-directory"]).toBe("cdktf.out/stacks");
    expect(job.env).toEqual({ INSTANCE_STACK: "${{ inputs.environment }}-instance", DATABASE_STACK: "${{ inputs.environment }}" });
    expect(steps(job).find((s) => String(s.uses).startsWith("hashicorp/setup-terraform"))).toMatchObject({
      with: { terraform_version: expect.stringMatching(/^1\.11\.\d+$/) },
    });
    const script = runs(job).join("\n");
    expect(script).toContain('terraform -chdir="$INSTANCE_STACK" plan -input=false -lock-timeout=10m -out=tfplan');
    expect(script).toContain('terraform -chdir="$DATABASE_STACK" plan -input=false -lock-timeout=10m -out=tfplan');
    expect(script).toContain("jq -e '.terraform.backend.s3' \"$stack/cdk.tf.json\"");
    expect(script).toMatch(/for stack in "\$INSTANCE_STACK" "\$DATABASE_STACK"/);
    expect(runs(job).some((r) => r.includes('terraform -chdir="$INSTANCE_STACK" show -no-color tfplan') && r.includes("$GITHUB_STEP_SUMMARY"))).toBe(
      true,
    );
    const keep = steps(job).find((s) => String(s.run).startsWith("aws s3 cp"));
    expect(keep).toMatchObject({ if: "github.event_name == 'push' && github.ref == 'refs/heads/main'" });
    expect(keep!.run).toBe(
      'aws s3 cp "$INSTANCE_STACK/tfplan" "s3://${{ vars.PULSE_TF_STATE_BUCKET }}/plans/${{ inputs.environment }}/${{ github.run_id }}/tfplan" --sse aws:kms',
    );
  });

  it("plans the database stack only once the instance exists, and says so on a first deploy", () => {
    const step = steps(plan.jobs.plan).find((s) => s.name === "Plan the database stack (against the instance as it is now)");
    expect(String(step!.run)).toMatch(/output -raw pulse_analytics_db_host[\s\S]*::notice::No instance yet \(first deploy\)[\s\S]*exit 0/);
  });

  it("never puts a saved plan (it holds the state's passwords) into a GitHub artifact", () => {
    const upload = steps(plan.jobs.plan).find((s) => String(s.uses).startsWith("actions/upload-artifact")) as {
      with: { name: string; path: string };
    };
    expect(upload.with.name).toBe("tfplan-${{ inputs.environment }}");
    expect(
      upload.with.path
        .trim()
        .split("\n")
        .map((p) => p.split("/").pop()),
    ).toEqual(["cdk.tf.json", ".terraform.lock.hcl", "tfplan.sha256", "cdk.tf.json", ".terraform.lock.hcl"]);
  });

  it("applies dev automatically on main, then staging, then prod, each through the apply workflow", () => {
    expect(pipeline.on.push).toEqual({ branches: ["main"] });
    expect(pipeline.jobs["apply-dev"]).toMatchObject({
      needs: "plan",
      if: "github.event_name == 'push' && github.ref == 'refs/heads/main'",
      with: { environment: "dev" },
    });
    expect(pipeline.jobs["apply-staging"]).toMatchObject({
      needs: "apply-dev",
      uses: "./.github/workflows/terraform-apply.yml",
      with: { environment: "staging" },
    });
    expect(pipeline.jobs["apply-prod"]).toMatchObject({
      needs: "apply-staging",
      uses: "./.github/workflows/terraform-apply.yml",
      with: { environment: "prod" },
    });
  });

  it("makes prod's apply wait for the prod GitHub environment and apply exactly the saved, reviewed plan of the instance stack", () => {
    const job = apply.jobs.apply;
    // The environment named by the caller (prod for apply-prod): its required reviewers gate the job.
    expect(job.environment).toBe("${{ inputs.environment }}");
    const download = steps(job).find((s) => String(s.uses).startsWith("actions/download-artifact"));
    expect(download).toMatchObject({ with: { name: "tfplan-${{ inputs.environment }}" } });
    const fetchAndCheck = runs(job).find((r) => r.includes("sha256sum --check tfplan.sha256"));
    expect(fetchAndCheck).toContain(
      'aws s3 cp "s3://${{ vars.PULSE_TF_STATE_BUCKET }}/plans/${{ inputs.environment }}/${{ github.run_id }}/tfplan" "$INSTANCE_STACK/tfplan"',
    );
    const instanceRuns = runs(job).filter((r) => r.includes('-chdir="$INSTANCE_STACK"'));
    expect(instanceRuns.join("\n")).toContain('terraform -chdir="$INSTANCE_STACK" apply -input=false -lock-timeout=10m tfplan');
    expect(instanceRuns.join("\n")).not.toMatch(/-chdir="\$INSTANCE_STACK" plan/);
  });

  // Finding 5 of issue 9: a first deploy from CI with no manual step and no -target: the instance
  // stack is applied, then the tunnel opens (the host is now in its state), then the database stack
  // is planned and applied.
  it("deploys in order: the instance's reviewed plan, then the tunnel, then the database stack's plan and apply", () => {
    const names = steps(apply.jobs.apply).map((s) => String(s.name ?? s.uses));
    const at = (name: string) => names.indexOf(name);
    expect(at("Apply the reviewed plan of the instance stack")).toBeGreaterThan(-1);
    expect(at("Apply the reviewed plan of the instance stack")).toBeLessThan(
      at("Reach the database (the postgresql provider applies roles and grants)"),
    );
    expect(at("Reach the database (the postgresql provider applies roles and grants)")).toBeLessThan(
      at("Plan and apply the database stack against the instance just applied"),
    );
    const database = String(
      steps(apply.jobs.apply).find((s) => s.name === "Plan and apply the database stack against the instance just applied")!.run,
    );
    expect(database.indexOf('-chdir="$DATABASE_STACK" plan')).toBeLessThan(
      database.indexOf('-chdir="$DATABASE_STACK" apply -input=false -lock-timeout=10m tfplan'),
    );
  });

  it("never targets single resources: no -target anywhere in the pipeline or the runbook", () => {
    const docs = readFileSync(join(ROOT, "docs", "operations.md"), "utf8") + readFileSync(join(ROOT, "README.md"), "utf8");
    for (const text of [...[...workflowFiles, ...actionFiles].map((f) => readFileSync(f, "utf8")), docs])
      expect(text).not.toMatch(/(?<!-)-target[= ]/);
  });

  it("opens the tunnel to the host in the instance stack's outputs", () => {
    const action = parse(readFileSync(actionFiles[0], "utf8"));
    expect(action.runs.steps[0]["working-directory"]).toBe("cdktf.out/stacks/${{ inputs.environment }}-instance");
  });

  it("runs main one run at a time, approvals included, so no saved plan goes stale behind an earlier run's apply", () => {
    expect(pipeline.concurrency).toEqual({
      group: "pulse-analytics-${{ github.event_name == 'pull_request' && github.ref || 'main' }}",
      "cancel-in-progress": "${{ github.event_name == 'pull_request' }}",
    });
  });

  it("never runs two applies to one environment at once, nor cancels one halfway", () => {
    expect(apply.jobs.apply.concurrency).toEqual({ group: "pulse-analytics-apply-${{ inputs.environment }}", "cancel-in-progress": false });
  });
});

describe("credentials and permissions", () => {
  // Finding 12 of issue 9: configure-aws-credentials asks for 3600 s by default; an apply that waits
  // on RDS (60-minute timeouts) must not outlive its credentials. The bootstrap stack's roles allow 7200 s.
  it("give the apply job a session longer than the instance's longest wait, within the role's maximum", () => {
    const step = apply.jobs.apply.steps.find((s: { uses?: string }) => String(s.uses).startsWith("aws-actions/configure-aws-credentials"));
    expect(step.with["role-duration-seconds"]).toBe(CI_ROLE_SESSION_SECONDS);
    const longestWaitSeconds = Math.max(...Object.values(DB_INSTANCE_TIMEOUTS).map((t) => Number(t.replace("m", "")) * 60));
    expect(step.with["role-duration-seconds"]).toBeGreaterThan(longestWaitSeconds);
  });

  const allText = [...workflowFiles, ...actionFiles].map((f) => readFileSync(f, "utf8")).join("\n");

  it("hold no static AWS key anywhere: AWS is reached by assuming a role through OIDC", () => {
    expect(allText).not.toMatch(/aws-access-key-id|aws-secret-access-key|AWS_ACCESS_KEY_ID|AWS_SECRET_ACCESS_KEY|AWS_SESSION_TOKEN|secrets\.AWS/i);
    const awsSteps = [plan.jobs.plan, apply.jobs.apply]
      .flatMap((job) => job.steps)
      .filter((s: { uses?: string }) => String(s.uses).startsWith("aws-actions/configure-aws-credentials"));
    expect(awsSteps).toHaveLength(2);
    for (const step of awsSteps)
      expect(
        Object.keys(step.with)
          .filter((k) => k !== "role-duration-seconds")
          .sort(),
      ).toEqual(["aws-region", "role-session-name", "role-to-assume"]);
    // A read-mostly role to plan, and an apply role that trusts only the GitHub environment.
    expect(awsSteps.map((step: { with: Record<string, string> }) => step.with["role-to-assume"])).toEqual([
      "${{ vars[format('PULSE_AWS_PLAN_ROLE_ARN_{0}', inputs.environment)] }}",
      "${{ vars[format('PULSE_AWS_APPLY_ROLE_ARN_{0}', inputs.environment)] }}",
    ]);
  });

  it("grant nothing by default, and id-token: write only to the jobs that assume a role", () => {
    for (const workflow of [pipeline, plan, apply]) expect(workflow.permissions).toEqual({});
    expect(pipeline.jobs.test.permissions).toEqual({ contents: "read" });
    for (const job of [
      pipeline.jobs.plan,
      pipeline.jobs["apply-dev"],
      pipeline.jobs["apply-staging"],
      pipeline.jobs["apply-prod"],
      plan.jobs.plan,
      apply.jobs.apply,
    ]) {
      expect(job.permissions).toEqual({ contents: "read", "id-token": "write" });
    }
    expect(allText).not.toMatch(/write-all|contents: write/);
  });

  it("take the state bucket and region from repository variables, as PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION", () => {
    expect(pipeline.jobs.test.env).toEqual({
      PULSE_TF_STATE_BUCKET: "${{ vars.PULSE_TF_STATE_BUCKET }}",
      PULSE_TF_STATE_REGION: "${{ vars.PULSE_TF_STATE_REGION }}",
    });
  });

  it("make reaching the private database a documented choice: runner-in-vpc or ssm-tunnel", () => {
    expect(pipeline.on.workflow_dispatch.inputs.reachability).toMatchObject({ type: "choice", options: ["ssm-tunnel", "runner-in-vpc"] });
    for (const job of [plan.jobs.plan, apply.jobs.apply]) {
      expect(job["runs-on"]).toContain("inputs.reachability == 'runner-in-vpc'");
      expect(job.steps.find((s: { uses?: string }) => s.uses === "./.github/actions/reach-database")).toMatchObject({
        with: { mode: "${{ inputs.reachability }}" },
      });
    }
    expect(readFileSync(join(ROOT, "docs", "operations.md"), "utf8")).toMatch(/## Reaching the database/);
  });
});
