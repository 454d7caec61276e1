// Assembles the CDKTF app: the bootstrap stack (state bucket, CI roles), then two stacks per
// environment (`<env>-instance`, then `<env>`), and the state location read from the environment
// variables. main.ts runs it; tests build the same app into a temporary directory.

import { App, TerraformStack } from "cdktf";
import { DEFAULT_AWS_REGION, EnvironmentConfig, environments } from "./environments";
import { EnvironmentName, InvalidInputError } from "../src/config/rules";
import { PulseAnalyticsBootstrapStack } from "./bootstrap-stack";
import { PulseAnalyticsDatabaseStack } from "./pulse-analytics-database-stack";
import { PulseAnalyticsInstanceStack } from "./pulse-analytics-instance-stack";
import { S3StateLocation } from "./stack-foundation";

/**
 * The S3 state location from PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION, or undefined for local
 * state when neither is set. One without the other is a mistake, not a silent fallback.
 */
export function stateLocationFromEnvironment(env: NodeJS.ProcessEnv): S3StateLocation | undefined {
  const bucket = env.PULSE_TF_STATE_BUCKET?.trim();
  const region = env.PULSE_TF_STATE_REGION?.trim();
  if (bucket && region) return { bucket, region };
  if (bucket || region) {
    const missing = bucket ? "PULSE_TF_STATE_REGION" : "PULSE_TF_STATE_BUCKET";
    throw new InvalidInputError(
      `${missing} is not set but ${bucket ? "PULSE_TF_STATE_BUCKET" : "PULSE_TF_STATE_REGION"} is: ` +
        `set both for S3 state, or neither for local state.`,
    );
  }
  return undefined;
}

export interface PulseAnalyticsAppOptions {
  /** @default undefined (local state) */
  readonly stateBackend?: S3StateLocation;
  /** @default DEFAULT_AWS_REGION */
  readonly awsRegion?: string;
  /** @default the configs of stacks/environments.ts */
  readonly environments?: Record<EnvironmentName, EnvironmentConfig>;
}

/**
 * Builds every stack, and so validates every config, and only then writes them: an invalid config
 * throws before a single stack file exists.
 */
export function synthesizePulseAnalytics(app: App, options: PulseAnalyticsAppOptions = {}): TerraformStack[] {
  const stacks = addPulseAnalyticsStacks(app, options);
  app.synth();
  return stacks;
}

/** Adds the bootstrap stack and the two stacks of dev, staging and prod to `app`. Any invalid config throws. */
function addPulseAnalyticsStacks(app: App, options: PulseAnalyticsAppOptions = {}): TerraformStack[] {
  const configs = options.environments ?? environments;
  const awsRegion = options.awsRegion ?? DEFAULT_AWS_REGION;
  const stacks: TerraformStack[] = [
    new PulseAnalyticsBootstrapStack(app, {
      awsRegion,
      stateBackend: options.stateBackend,
      environments: Object.values(configs).map((config) => config.environment),
    }),
  ];
  for (const config of Object.values(configs)) {
    const common = { config, awsRegion, stateBackend: options.stateBackend };
    const instanceStack = new PulseAnalyticsInstanceStack(app, common);
    stacks.push(instanceStack, new PulseAnalyticsDatabaseStack(app, { ...common, instanceStack }));
  }
  return stacks;
}
