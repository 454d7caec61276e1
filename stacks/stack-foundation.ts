// What every stack of the app shares: the Terraform version it needs, where its state lives, and the
// names of the CI roles the bootstrap stack creates and the environment stacks name in key policies.

import { LocalBackend, S3Backend, TerraformBackend, TerraformStack } from "cdktf";
import { EnvironmentConfig } from "./environments";
import { EnvironmentName } from "../src/config/rules";
import { CiRoleKind } from "../src/constructs/ci-role-policies";

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

export function ciRoleName(environment: EnvironmentName, kind: CiRoleKind): string {
  return `pulse-analytics-${environment}-${kind}`;
}

/** The two stacks of an environment: the instance and its AWS resources, then the database level. */
export function instanceStackName(environment: EnvironmentName): string {
  return `${environment}-instance`;
}

export function databaseStackName(environment: EnvironmentName): string {
  return environment;
}
