// The CDKTF app's entry point: synthesizes every stack to
// cdktf.out/stacks/<stack>/cdk.tf.json (bootstrap, and <env>-instance and <env> per environment), or
// prints one line saying which input is wrong.

import { App } from "cdktf";
import { InvalidInputError } from "./src/config/rules";
import { stateLocationFromEnvironment, synthesizePulseAnalytics } from "./stacks/app";

try {
  const stateBackend = stateLocationFromEnvironment(process.env);
  if (!stateBackend) {
    console.log(
      "note: local Terraform state (terraform.<stack>.tfstate); set PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION for the S3 backend.",
    );
  }
  synthesizePulseAnalytics(new App(), { stateBackend });
} catch (error) {
  if (!(error instanceof InvalidInputError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}
