// The CDKTF app's entry point: synthesizes every stack to
// cdktf.out/stacks/<stack>/cdk.tf.json (bootstrap, and <env>-instance and <env> per environment), or
// with --hcl (npm run synth:hcl) to cdk.tf in HCL instead; or prints one line saying which input is wrong.

import { App } from "cdktf";
import { InvalidInputError } from "./src/config/rules";
import { stateLocationFromEnvironment, synthesizePulseAnalytics } from "./stacks/app";
import { removeHclStacks, writeStacksAsHcl } from "./stacks/hcl";

async function main(): Promise<void> {
  const hcl = process.argv.includes("--hcl");
  const stateBackend = stateLocationFromEnvironment(process.env);
  if (!stateBackend) {
    console.log("note: local Terraform state (terraform.<stack>.tfstate); set PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION for the S3 backend.");
  }
  const app = new App();
  const stacks = synthesizePulseAnalytics(app, { stateBackend });
  if (hcl) {
    const files = await writeStacksAsHcl(app.outdir, stacks);
    console.log(`wrote ${files.length} stacks as HCL: ${app.outdir}/stacks/<stack>/cdk.tf`);
  } else {
    removeHclStacks(app.outdir, stacks);
  }
}

main().catch((error: unknown) => {
  if (!(error instanceof InvalidInputError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
});
