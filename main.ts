// The CDKTF app's entry point: synthesizes the dev, staging and prod stacks to
// cdktf.out/stacks/<env>/cdk.tf.json, or prints one line saying which input is wrong.

import { App } from "cdktf";
import { InvalidInputError } from "./src/config/rules";
import { addPulseAnalyticsStacks, stateLocationFromEnvironment } from "./stacks/app";

try {
  const stateBackend = stateLocationFromEnvironment(process.env);
  if (!stateBackend) {
    console.error(
      "note: local Terraform state (terraform.<env>.tfstate); set PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION for the S3 backend.",
    );
  }
  const app = new App();
  // Every stack is built, and so validated, before app.synth() writes a file: a bad config writes nothing.
  addPulseAnalyticsStacks(app, { stateBackend });
  app.synth();
} catch (error) {
  if (!(error instanceof InvalidInputError)) throw error;
  console.error(`error: ${error.message}`);
  process.exit(1);
}
