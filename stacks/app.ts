// Assembles the CDKTF app: one PulseAnalyticsStack per environment, and the state location read from
// the environment variables. main.ts runs it; tests build the same app into a temporary directory.

import { App } from "cdktf";
import { DEFAULT_AWS_REGION, EnvironmentConfig, environments } from "../src/config/environments";
import { EnvironmentName, InvalidInputError } from "../src/config/rules";
import { PulseAnalyticsStack, S3StateLocation } from "./pulse-analytics-stack";

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
  /** @default the configs of src/config/environments.ts */
  readonly environments?: Record<EnvironmentName, EnvironmentConfig>;
}

/**
 * Builds every stack, and so validates every config, and only then writes them: an invalid config
 * throws before a single stack file exists.
 */
export function synthesizePulseAnalytics(app: App, options: PulseAnalyticsAppOptions = {}): PulseAnalyticsStack[] {
  const stacks = addPulseAnalyticsStacks(app, options);
  app.synth();
  return stacks;
}

/** Adds the dev, staging and prod stacks to `app`. Any invalid config throws. */
function addPulseAnalyticsStacks(app: App, options: PulseAnalyticsAppOptions = {}): PulseAnalyticsStack[] {
  const configs = options.environments ?? environments;
  return Object.values(configs).map(
    (config) =>
      new PulseAnalyticsStack(app, config.environment, {
        config,
        awsRegion: options.awsRegion ?? DEFAULT_AWS_REGION,
        stateBackend: options.stateBackend,
      }),
  );
}
