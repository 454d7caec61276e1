// PulseAnalyticsBootstrapStack: what must exist before any environment is deployed, deployed once per
// account by an administrator (docs/operations.md, "One-time bootstrap"). The Terraform state bucket,
// GitHub's OIDC identity provider, and per environment a plan role and an apply role with their
// policies (stacks/ci-role-policies.ts).

import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { IamOpenidConnectProvider } from "@cdktf/provider-aws/lib/iam-openid-connect-provider";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { S3Bucket } from "@cdktf/provider-aws/lib/s3-bucket";
import { S3BucketLifecycleConfiguration } from "@cdktf/provider-aws/lib/s3-bucket-lifecycle-configuration";
import { S3BucketOwnershipControls } from "@cdktf/provider-aws/lib/s3-bucket-ownership-controls";
import { S3BucketPolicy } from "@cdktf/provider-aws/lib/s3-bucket-policy";
import { S3BucketPublicAccessBlock } from "@cdktf/provider-aws/lib/s3-bucket-public-access-block";
import { S3BucketServerSideEncryptionConfigurationA } from "@cdktf/provider-aws/lib/s3-bucket-server-side-encryption-configuration";
import { S3BucketVersioningA } from "@cdktf/provider-aws/lib/s3-bucket-versioning";
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import { EnvironmentName } from "../src/config/rules";
import { applyRoleMonitoringPolicy, applyRolePolicy, CiRolePolicyInput, githubTrustPolicy, planRolePolicy } from "./ci-role-policies";
import { InputVariables } from "./input-variables";
import { CiRoleKind, ciRoleName, configureStack, databaseStackName, instanceStackName, S3StateLocation, stateKey } from "./stack-foundation";

export interface PulseAnalyticsBootstrapStackProps {
  /** Default of the `aws_region` variable: where the bucket and the environments live. */
  readonly awsRegion: string;
  /**
   * Where this stack's own state goes once the bucket exists; its first deploy uses local state.
   * @default undefined (local state: terraform.bootstrap.tfstate at the project root)
   */
  readonly stateBackend?: S3StateLocation;
  /** The environments to create CI roles for. */
  readonly environments: readonly EnvironmentName[];
}

export const BOOTSTRAP_STACK_NAME = "bootstrap";

/** How long a CI role's session may last: longer than the longest apply (the instance's 60-minute timeouts). */
export const CI_ROLE_SESSION_SECONDS = 7200;

/** Saved plans hold what the state holds (login passwords): they expire after a week. */
const SAVED_PLAN_EXPIRY_DAYS = 7;
/** Earlier versions of the state stay restorable for this long. */
const STATE_VERSION_RETENTION_DAYS = 90;

const GITHUB_OIDC_URL = "https://token.actions.githubusercontent.com";

export class PulseAnalyticsBootstrapStack extends TerraformStack {
  constructor(scope: Construct, props: PulseAnalyticsBootstrapStackProps) {
    super(scope, BOOTSTRAP_STACK_NAME);
    configureStack(this, props.stateBackend);

    const v = new InputVariables(this);
    const awsRegion = v.string("aws_region", "AWS region of the state bucket and of the environments.", props.awsRegion);
    const repository = v.string(
      "github_repository",
      "The GitHub repository whose workflows may assume the CI roles, as its OIDC tokens name it in `sub`: " +
        "owner/name, or owner@<id>/name@<id> for repositories with immutable subject claims.",
      undefined,
      [
        'can(regex("^[A-Za-z0-9_.-]+(@[0-9]+)?/[A-Za-z0-9_.-]+(@[0-9]+)?$", var.github_repository))',
        "owner/name of a GitHub repository, e.g. acme/pulse-analytics-postgres, or owner@<id>/name@<id> when its tokens use immutable subject claims",
      ],
    );
    const bucketName = v.string(
      "state_bucket",
      "Name of the Terraform state bucket to create (PULSE_TF_STATE_BUCKET of the environments).",
      props.stateBackend?.bucket,
      [
        'can(regex("^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$", var.state_bucket))',
        "an S3 bucket name: 3 to 63 lower-case letters, digits, dots and hyphens, starting and ending with a letter or digit",
      ],
    );
    new AwsProvider(this, "aws", {
      region: awsRegion.stringValue,
      defaultTags: [{ tags: { project: "pulse", component: "analytics-postgres-bootstrap", "managed-by": "cdktf" } }],
    });
    const partition = new DataAwsPartition(this, "partition").partition;
    const accountId = new DataAwsCallerIdentity(this, "account").accountId;

    const bucket = this.createStateBucket(bucketName.stringValue, partition);
    const oidc = new IamOpenidConnectProvider(this, "github-oidc", { url: GITHUB_OIDC_URL, clientIdList: ["sts.amazonaws.com"] });

    const repo = repository.stringValue;
    for (const environment of props.environments) {
      const input: CiRolePolicyInput = {
        environment,
        partition,
        accountId,
        region: awsRegion.stringValue,
        stateBucket: bucket.bucket,
        stateKeys: [stateKey(instanceStackName(environment)), stateKey(databaseStackName(environment))],
      };
      // Plans run as the branch (push to main) or, for dev only, as a pull request; applies run only in
      // a job of the GitHub environment, which waits for its required reviewers.
      const planSubjects = [`repo:${repo}:ref:refs/heads/main`, ...(environment === "dev" ? [`repo:${repo}:pull_request`] : [])];
      const roles = {
        plan: { subjects: planSubjects, policy: planRolePolicy(input), purpose: "refreshes and plans" },
        apply: { subjects: [`repo:${repo}:environment:${environment}`], policy: applyRolePolicy(input), purpose: "applies the reviewed plans of" },
      };
      for (const [kind, role] of Object.entries(roles) as Array<[CiRoleKind, (typeof roles)["plan"]]>) {
        const name = ciRoleName(environment, kind);
        const iamRole = new IamRole(this, name, {
          name,
          description: `GitHub Actions: ${role.purpose} the PULSE Analytics Postgres ${environment} stacks`,
          assumeRolePolicy: githubTrustPolicy(oidc.arn, role.subjects),
          maxSessionDuration: CI_ROLE_SESSION_SECONDS,
          tags: { environment },
        });
        new IamRolePolicy(this, `${name}-policy`, { role: iamRole.name, name: kind, policy: role.policy });
        if (kind === "apply") {
          // A managed policy beside the inline one: a role's inline policies share 10,240 characters.
          const monitoring = new IamPolicy(this, `${name}-monitoring`, {
            name: `${name}-monitoring`,
            description: `GitHub Actions: the monitoring (events topic, event subscription, alarms) of the PULSE Analytics Postgres ${environment} stacks`,
            policy: applyRoleMonitoringPolicy(input),
            tags: { environment },
          });
          new IamRolePolicyAttachment(this, `${name}-monitoring-attachment`, { role: iamRole.name, policyArn: monitoring.arn });
        }
        new TerraformOutput(this, `${environment}_${kind}_role_arn`, {
          value: iamRole.arn,
          description: `Repository variable PULSE_AWS_${kind.toUpperCase()}_ROLE_ARN_${environment.toUpperCase()}.`,
        });
      }
    }
    new TerraformOutput(this, "state_bucket_name", { value: bucket.bucket, description: "Repository variable PULSE_TF_STATE_BUCKET." });
  }

  private createStateBucket(name: string, partition: string): S3Bucket {
    const bucket = new S3Bucket(this, "state-bucket", {
      bucket: name,
      // The state of every environment: never deleted by a plan.
      lifecycle: { preventDestroy: true },
    });
    // Every state ever written can be restored.
    new S3BucketVersioningA(this, "state-bucket-versioning", { bucket: bucket.id, versioningConfiguration: { status: "Enabled" } });
    new S3BucketServerSideEncryptionConfigurationA(this, "state-bucket-encryption", {
      bucket: bucket.id,
      rule: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "aws:kms" }, bucketKeyEnabled: true }],
    });
    new S3BucketPublicAccessBlock(this, "state-bucket-public-access", {
      bucket: bucket.id,
      blockPublicAcls: true,
      ignorePublicAcls: true,
      blockPublicPolicy: true,
      restrictPublicBuckets: true,
    });
    new S3BucketOwnershipControls(this, "state-bucket-ownership", { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } });
    new S3BucketPolicy(this, "state-bucket-tls-only", {
      bucket: bucket.id,
      policy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [
          {
            Sid: "TlsOnly",
            Effect: "Deny",
            Principal: "*",
            Action: "s3:*",
            Resource: [`arn:${partition}:s3:::${name}`, `arn:${partition}:s3:::${name}/*`],
            Condition: { Bool: { "aws:SecureTransport": "false" } },
          },
        ],
      }),
    });
    new S3BucketLifecycleConfiguration(this, "state-bucket-lifecycle", {
      bucket: bucket.id,
      rule: [
        { id: "expire-saved-plans", status: "Enabled", filter: [{ prefix: "plans/" }], expiration: [{ days: SAVED_PLAN_EXPIRY_DAYS }] },
        {
          id: "expire-old-state-versions",
          status: "Enabled",
          filter: [{ prefix: "pulse-analytics/" }],
          noncurrentVersionExpiration: [{ noncurrentDays: STATE_VERSION_RETENTION_DAYS }],
        },
      ],
    });
    return bucket;
  }
}
