// What every stack of the app shares: the Terraform version it needs, where its state lives, and the
// names of the CI roles the bootstrap stack creates and the environment stacks name in key policies.

import { LocalBackend, S3Backend, TerraformBackend, TerraformStack } from "cdktf";
import { EnvironmentConfig } from "./environments";
import { EnvironmentName } from "../src/config/rules";
import type { PulseAnalyticsNetworkProps, PulseAnalyticsPostgresSettings } from "../src/constructs/pulse-analytics-postgres-props";

/** What an environment's two stacks are built from. */
export interface PulseAnalyticsStackProps {
  /** The environment's configuration (stacks/environments.ts). */
  readonly config: EnvironmentConfig;
  /** Default of the `aws_region` variable. */
  readonly awsRegion: string;
  /**
   * S3 bucket and region for the state.
   * @default undefined (a local backend: terraform.<stack>.tfstate at the project root)
   */
  readonly stateBackend?: S3StateLocation;
}

/** Where Terraform state lives; from PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION in main.ts. */
export interface S3StateLocation {
  readonly bucket: string;
  readonly region: string;
}

/**
 * Ephemeral resources (the master secret, read at apply time) need Terraform 1.10, as does S3-native
 * state locking (use_lockfile); cross-variable validation needs 1.9.
 */
const REQUIRED_TERRAFORM_VERSION = ">= 1.10.0";

/** Every stack's state: `pulse-analytics/<stack>/terraform.tfstate` in S3, or a local file. */
export function configureStack(stack: TerraformStack, state: S3StateLocation | undefined): TerraformBackend {
  stack.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
  const name = stack.node.id;
  if (!state) {
    // Relative to cdktf.out/stacks/<stack>, where Terraform runs: the state file sits at the project
    // root (git-ignored), survives a clean of cdktf.out, and keeps the synthesized JSON machine-independent.
    return new LocalBackend(stack, { path: `../../../terraform.${name}.tfstate` });
  }
  const backend = new S3Backend(stack, {
    bucket: state.bucket,
    region: state.region,
    key: stateKey(name),
    encrypt: true,
  });
  // S3-native state locking (Terraform 1.10+); cdktf 0.21's S3Backend has no property for it.
  backend.addOverride("use_lockfile", true);
  return backend;
}

/** The S3 key of a stack's state; its lock file is the same key plus `.tflock`. */
export function stateKey(stackName: string): string {
  return `pulse-analytics/${stackName}/terraform.tfstate`;
}

/** The CI roles of an environment: `plan` (refresh, plan, save the plan) and `apply` (apply it). */
export type CiRoleKind = "plan" | "apply";

export function ciRoleName(environment: EnvironmentName, kind: CiRoleKind): string {
  return `pulse-analytics-${environment}-${kind}`;
}

/** The RDS instance identifier of an environment: every name of its resources derives from it. */
export function instanceIdentifier(environment: EnvironmentName): string {
  return `pulse-analytics-${environment}`;
}

/**
 * The tags of everything an environment's stacks create: their aws providers' `default_tags`, which
 * the provider merges into every create request (internal/provider/sdkv2, tagsResourceCRUDInterceptor:
 * `DefaultTagsConfig.MergeTags`), and which the CI roles' policies require on creation.
 */
export function environmentTags(environment: EnvironmentName): Record<string, string> {
  return { project: "pulse", environment, "managed-by": "cdktf" };
}

/** The construct's settings of an environment: its config, named by the environment's identifier. */
export function environmentSettings(config: EnvironmentConfig): PulseAnalyticsPostgresSettings & Partial<PulseAnalyticsNetworkProps> {
  const { environment, ...settings } = config;
  return { ...settings, identifier: instanceIdentifier(environment) };
}

/** The two stacks of an environment: the instance and its AWS resources, then the database level. */
export function instanceStackName(environment: EnvironmentName): string {
  return `${environment}-instance`;
}

export function databaseStackName(environment: EnvironmentName): string {
  return environment;
}
