// The IAM policies of an environment's two CI roles: `plan` (refresh and plan both stacks, keep the
// saved plan, open the SSM tunnel) and `apply` (apply saved plans, create and destroy everything the
// stacks hold). Each statement names the calls Terraform and the providers make; test/ci simulates
// every one of those calls against these documents with AWS's own action and condition-key data.

import { EnvironmentName } from "../src/config/rules";
import { environmentTags, instanceIdentifier } from "./stack-foundation";

export interface CiRolePolicyInput {
  readonly environment: EnvironmentName;
  /** `arn:<partition>` prefix pieces and the account/region the environment lives in (may be Terraform references). */
  readonly partition: string;
  readonly accountId: string;
  readonly region: string;
  /** The Terraform state bucket. */
  readonly stateBucket: string;
  /** The S3 keys of the environment's stacks' states (`pulse-analytics/<stack>/terraform.tfstate`). */
  readonly stateKeys: readonly string[];
}

/** Tag key and value that mark the instance an environment's SSM tunnel goes through (docs/operations.md). */
export const BASTION_TAG = "pulse-analytics-bastion";

/** The AWS-owned Session Manager document of port forwarding to a remote host (it has no tags). */
export const PORT_FORWARDING_DOCUMENT = "AWS-StartPortForwardingSessionToRemoteHost";

type Statement = Record<string, unknown>;

interface Arns {
  bucket: string;
  stateObjects: string[];
  lockObjects: string[];
  plans: string;
  identifier: string;
  db: string;
  rds: (type: string, name: string) => string;
  secret: (name: string) => string;
  instance: string;
  document: string;
  sessions: string;
  logGroups: string[];
  monitoringRole: string;
  connectPolicies: string;
  eventsTopic: string;
  eventSubscription: string;
  alarms: string;
  kmsKeys: string;
  kmsAlias: string;
  ec2: (type: string) => string;
}

function arnsOf(input: CiRolePolicyInput): Arns {
  const { partition, accountId, region, environment } = input;
  const identifier = instanceIdentifier(environment);
  const rds = (type: string, name: string) => `arn:${partition}:rds:${region}:${accountId}:${type}:${name}`;
  return {
    bucket: `arn:${partition}:s3:::${input.stateBucket}`,
    stateObjects: input.stateKeys.map((key) => `arn:${partition}:s3:::${input.stateBucket}/${key}`),
    lockObjects: input.stateKeys.map((key) => `arn:${partition}:s3:::${input.stateBucket}/${key}.tflock`),
    plans: `arn:${partition}:s3:::${input.stateBucket}/plans/${environment}/*`,
    identifier,
    db: rds("db", identifier),
    rds,
    secret: (name) => `arn:${partition}:secretsmanager:${region}:${accountId}:secret:${name}`,
    instance: `arn:${partition}:ec2:${region}:${accountId}:instance/*`,
    // An AWS-owned document's ARN has no account ("arn:aws:ssm:<region>::document/…"); "*" matches it.
    document: `arn:${partition}:ssm:${region}:*:document/${PORT_FORWARDING_DOCUMENT}`,
    sessions: `arn:${partition}:ssm:${region}:${accountId}:session/*`,
    // The primary's and its read replicas' (`${identifier}-replica-<n>`) exported logs.
    logGroups: [identifier, `${identifier}-replica-*`].flatMap((instance) => [
      `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/rds/instance/${instance}/*`,
      `arn:${partition}:logs:${region}:${accountId}:log-group:/aws/rds/instance/${instance}/*:*`,
    ]),
    monitoringRole: `arn:${partition}:iam::${accountId}:role/${identifier}-rds-monitoring`,
    // The login roles' rds-db:connect policies (connectPolicyName in src/constructs/pulse-analytics-database.ts).
    connectPolicies: `arn:${partition}:iam::${accountId}:policy/${identifier}-*-connect`,
    // The RDS events topic (PulseAnalyticsPostgres eventNotifications).
    eventsTopic: `arn:${partition}:sns:${region}:${accountId}:${identifier}-events`,
    eventSubscription: `arn:${partition}:rds:${region}:${accountId}:es:${identifier}-events`,
    // The CloudWatch alarms of the primary and its replicas, all named after the identifier.
    alarms: `arn:${partition}:cloudwatch:${region}:${accountId}:alarm:${identifier}-*`,
    kmsKeys: `arn:${partition}:kms:${region}:${accountId}:key/*`,
    kmsAlias: `arn:${partition}:kms:${region}:${accountId}:alias/${identifier}`,
    ec2: (type) => `arn:${partition}:ec2:${region}:${accountId}:${type}/*`,
  };
}

/** The environment's tags, which its stacks' aws providers put on everything they create (environmentTags). */
function environmentTagCondition(environment: EnvironmentName, key: "aws:RequestTag" | "aws:ResourceTag"): Statement {
  const tags = environmentTags(environment);
  return { StringEquals: { [`${key}/project`]: tags.project, [`${key}/environment`]: tags.environment } };
}

/** State, lock files and the SSM tunnel: what both roles need. */
function commonStatements(input: CiRolePolicyInput, a: Arns): Statement[] {
  return [
    { Sid: "StateBucket", Effect: "Allow", Action: "s3:ListBucket", Resource: a.bucket },
    // S3-native locking (use_lockfile): the lock is an object next to the state, written with If-None-Match.
    { Sid: "StateLocks", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject", "s3:DeleteObject"], Resource: a.lockObjects },
    {
      // Session Manager authorizes StartSession against the target instance and against the document,
      // an AWS-owned one without tags: a tag condition on it would deny every session.
      Sid: "TunnelThroughTheBastion",
      Effect: "Allow",
      Action: "ssm:StartSession",
      Resource: a.instance,
      Condition: { StringEquals: { [`ssm:resourceTag/${BASTION_TAG}`]: input.environment } },
    },
    { Sid: "TunnelDocument", Effect: "Allow", Action: "ssm:StartSession", Resource: a.document },
    {
      // Session Manager tags each session with its caller's aws:userid (role-id:session-name); the
      // policy variable is written $${…} so Terraform leaves it alone.
      Sid: "OwnSessions",
      Effect: "Allow",
      Action: ["ssm:TerminateSession", "ssm:ResumeSession"],
      Resource: a.sessions,
      Condition: { StringEquals: { "ssm:resourceTag/aws:ssmmessages:session-id": "$${aws:userid}" } },
    },
    { Sid: "SessionDataChannel", Effect: "Allow", Action: "ssmmessages:OpenDataChannel", Resource: "*" },
  ];
}

/** The environment's RDS resources: the instance, its parameter groups, subnet group, default option group, snapshots. */
function rdsResources(a: Arns): string[] {
  return [
    a.db,
    // The read replicas (PulseAnalyticsPostgres readReplicas).
    a.rds("db", `${a.identifier}-replica-*`),
    a.rds("pg", `${a.identifier}-*`),
    a.rds("subgrp", a.identifier),
    a.rds("og", "default:postgres-*"),
    a.rds("snapshot", `${a.identifier}-*`),
    // The RDS event subscription.
    a.rds("es", `${a.identifier}-events`),
  ];
}

/**
 * What a refresh of both stacks reads: the describe and list calls of every resource's Read, on the
 * environment's own resources where the action can name one, and on "*" where AWS knows no resource
 * for it (the Describe and List calls of EC2, the log group and alias listings).
 */
function refreshStatements(a: Arns): Statement[] {
  return [
    {
      Sid: "RefreshInstance",
      Effect: "Allow",
      Action: [
        "rds:DescribeDBParameterGroups",
        "rds:DescribeDBParameters",
        "rds:DescribeDBSubnetGroups",
        "rds:DescribeEventSubscriptions",
        "rds:ListTagsForResource",
      ],
      Resource: rdsResources(a),
    },
    { Sid: "RefreshLogGroups", Effect: "Allow", Action: ["logs:ListTagsForResource", "logs:ListTagsLogGroup"], Resource: a.logGroups },
    {
      Sid: "RefreshMonitoringRole",
      Effect: "Allow",
      Action: ["iam:GetRole", "iam:ListRolePolicies", "iam:ListAttachedRolePolicies"],
      Resource: a.monitoringRole,
    },
    { Sid: "RefreshEventsTopic", Effect: "Allow", Action: ["sns:GetTopicAttributes", "sns:ListTagsForResource"], Resource: a.eventsTopic },
    { Sid: "RefreshAlarms", Effect: "Allow", Action: ["cloudwatch:DescribeAlarms", "cloudwatch:ListTagsForResource"], Resource: a.alarms },
    {
      // aws_iam_policy Read: findPolicyByARN (GetPolicy) and findPolicyVersionByTwoPartKey (GetPolicyVersion).
      Sid: "RefreshConnectPolicies",
      Effect: "Allow",
      Action: ["iam:GetPolicy", "iam:GetPolicyVersion", "iam:ListPolicyVersions"],
      Resource: a.connectPolicies,
    },
    {
      Sid: "RefreshSecrets",
      Effect: "Allow",
      Action: ["secretsmanager:DescribeSecret", "secretsmanager:GetResourcePolicy"],
      Resource: a.secret(`${a.identifier}/*`),
    },
    {
      Sid: "RefreshUnnamed",
      Effect: "Allow",
      Action: [
        // aws_db_instance's Read looks the instance up by its resource id (a dbi-resource-id filter),
        // which names no instance: RDS authorizes it on db:*.
        "rds:DescribeDBInstances",
        "ec2:DescribeSecurityGroups",
        "ec2:DescribeSecurityGroupRules",
        "ec2:DescribeVpcs",
        "ec2:DescribeSubnets",
        "ec2:DescribeNetworkInterfaces",
        "logs:DescribeLogGroups",
        "kms:ListAliases",
      ],
      Resource: "*",
    },
  ];
}

/** The plan role: reads everything a refresh reads, both states, and the secrets the refresh decrypts. */
export function planRolePolicy(input: CiRolePolicyInput): string {
  const a = arnsOf(input);
  return document([
    ...commonStatements(input, a),
    { Sid: "ReadState", Effect: "Allow", Action: "s3:GetObject", Resource: a.stateObjects },
    { Sid: "KeepSavedPlans", Effect: "Allow", Action: "s3:PutObject", Resource: a.plans },
    ...refreshStatements(a),
    {
      // aws_secretsmanager_secret_version's refresh reads each login-role secret's value.
      Sid: "ReadLoginRoleSecrets",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: a.secret(`${a.identifier}/*`),
    },
    {
      // The RDS-managed secret (rds!db-…) carries only the tags RDS gives it, not the project's.
      Sid: "ReadMasterSecret",
      Effect: "Allow",
      Action: "secretsmanager:GetSecretValue",
      Resource: a.secret("rds!db-*"),
      Condition: { StringEquals: { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": a.db } },
    },
  ]);
}

/** The apply role: creates, changes and destroys what the environment's two stacks hold. */
export function applyRolePolicy(input: CiRolePolicyInput): string {
  const a = arnsOf(input);
  return document([
    ...commonStatements(input, a),
    { Sid: "State", Effect: "Allow", Action: ["s3:GetObject", "s3:PutObject"], Resource: a.stateObjects },
    { Sid: "ReadSavedPlans", Effect: "Allow", Action: "s3:GetObject", Resource: a.plans },
    ...refreshStatements(a),
    {
      // A new key has no tags to match yet: creation is allowed by the tags in the request. Everything
      // after it is allowed by the key policy, which names this role (src/constructs/kms-key-policy.ts).
      Sid: "CreateTheKey",
      Effect: "Allow",
      Action: ["kms:CreateKey", "kms:TagResource"],
      Resource: "*",
      Condition: environmentTagCondition(input.environment, "aws:RequestTag"),
    },
    { Sid: "KeyAlias", Effect: "Allow", Action: ["kms:CreateAlias", "kms:UpdateAlias", "kms:DeleteAlias"], Resource: a.kmsAlias },
    {
      Sid: "Instance",
      Effect: "Allow",
      Action: [
        "rds:CreateDBInstance",
        // aws_db_instance with replicate_source_db: authorized on the source and on the new replica.
        "rds:CreateDBInstanceReadReplica",
        "rds:ModifyDBInstance",
        "rds:DeleteDBInstance",
        "rds:RebootDBInstance",
        "rds:CreateDBSnapshot",
        "rds:CreateDBParameterGroup",
        "rds:ModifyDBParameterGroup",
        "rds:DeleteDBParameterGroup",
        "rds:CreateDBSubnetGroup",
        "rds:ModifyDBSubnetGroup",
        "rds:DeleteDBSubnetGroup",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
      ],
      Resource: rdsResources(a),
    },
    {
      // RDS creates the managed master secret with the caller's permissions. A secret that does not
      // exist yet has no tag to match, and its name is RDS's (rds!db-<uuid>): only creation is unscoped.
      Sid: "CreateManagedMasterSecret",
      Effect: "Allow",
      Action: ["secretsmanager:CreateSecret", "secretsmanager:TagResource"],
      Resource: a.secret("rds!db-*"),
    },
    {
      // Everything after creation only on this environment's instance's secret, by the tag RDS puts on it.
      Sid: "ManagedMasterSecret",
      Effect: "Allow",
      Action: ["secretsmanager:GetSecretValue", "secretsmanager:RotateSecret", "secretsmanager:DeleteSecret"],
      Resource: a.secret("rds!db-*"),
      Condition: { StringEquals: { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": a.db } },
    },
    {
      Sid: "LoginRoleSecrets",
      Effect: "Allow",
      Action: [
        "secretsmanager:CreateSecret",
        "secretsmanager:DescribeSecret",
        "secretsmanager:GetSecretValue",
        "secretsmanager:PutSecretValue",
        "secretsmanager:UpdateSecret",
        "secretsmanager:UpdateSecretVersionStage",
        "secretsmanager:ListSecretVersionIds",
        "secretsmanager:DeleteSecret",
        "secretsmanager:RestoreSecret",
        "secretsmanager:TagResource",
        "secretsmanager:UntagResource",
      ],
      Resource: a.secret(`${a.identifier}/*`),
    },
    {
      Sid: "CreateSecurityGroup",
      Effect: "Allow",
      Action: ["ec2:CreateSecurityGroup", "ec2:CreateTags"],
      Resource: a.ec2("security-group"),
      Condition: environmentTagCondition(input.environment, "aws:RequestTag"),
    },
    { Sid: "CreateSecurityGroupInVpc", Effect: "Allow", Action: "ec2:CreateSecurityGroup", Resource: a.ec2("vpc") },
    {
      Sid: "ChangeOwnSecurityGroup",
      Effect: "Allow",
      Action: [
        "ec2:AuthorizeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupIngress",
        "ec2:RevokeSecurityGroupEgress",
        "ec2:ModifySecurityGroupRules",
        "ec2:UpdateSecurityGroupRuleDescriptionsIngress",
        "ec2:DeleteSecurityGroup",
        "ec2:CreateTags",
        "ec2:DeleteTags",
      ],
      Resource: a.ec2("security-group"),
      Condition: environmentTagCondition(input.environment, "aws:ResourceTag"),
    },
    {
      // Deleting the security group first deletes what RDS left attached to it once the instance is gone
      // (aws_security_group Delete, deleteLingeringRDSENI); AWS refuses it for interfaces still in use.
      Sid: "LingeringInterfaces",
      Effect: "Allow",
      Action: "ec2:DeleteNetworkInterface",
      Resource: a.ec2("network-interface"),
    },
    {
      // Rules are new resources of their own; they can only be added to a group the statement above allows.
      Sid: "SecurityGroupRules",
      Effect: "Allow",
      Action: ["ec2:AuthorizeSecurityGroupIngress", "ec2:ModifySecurityGroupRules", "ec2:CreateTags", "ec2:DeleteTags"],
      Resource: a.ec2("security-group-rule"),
    },
    {
      Sid: "LogGroups",
      Effect: "Allow",
      Action: [
        "logs:CreateLogGroup",
        "logs:PutRetentionPolicy",
        "logs:DeleteRetentionPolicy",
        "logs:DeleteLogGroup",
        "logs:TagResource",
        "logs:UntagResource",
        "logs:TagLogGroup",
        "logs:UntagLogGroup",
      ],
      Resource: a.logGroups,
    },
    {
      Sid: "MonitoringRole",
      Effect: "Allow",
      Action: [
        "iam:CreateRole",
        "iam:DeleteRole",
        "iam:TagRole",
        "iam:UntagRole",
        "iam:UpdateRole",
        "iam:UpdateRoleDescription",
        "iam:UpdateAssumeRolePolicy",
        "iam:ListInstanceProfilesForRole",
        "iam:AttachRolePolicy",
        "iam:DetachRolePolicy",
      ],
      Resource: a.monitoringRole,
    },
    {
      // aws_iam_policy Create (CreatePolicy with its tags), Update (CreatePolicyVersion, then
      // policyPruneVersions) and Delete (its versions, then the policy): hashicorp/aws internal/service/iam.
      Sid: "ConnectPolicies",
      Effect: "Allow",
      Action: ["iam:CreatePolicy", "iam:DeletePolicy", "iam:CreatePolicyVersion", "iam:DeletePolicyVersion", "iam:TagPolicy", "iam:UntagPolicy"],
      Resource: a.connectPolicies,
    },
    {
      Sid: "PassMonitoringRoleToRds",
      Effect: "Allow",
      Action: "iam:PassRole",
      Resource: a.monitoringRole,
      Condition: { StringEquals: { "iam:PassedToService": ["rds.amazonaws.com", "monitoring.rds.amazonaws.com"] } },
    },
    {
      Sid: "RdsServiceLinkedRole",
      Effect: "Allow",
      Action: "iam:CreateServiceLinkedRole",
      Resource: `arn:${input.partition}:iam::${input.accountId}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`,
      Condition: { StringEquals: { "iam:AWSServiceName": "rds.amazonaws.com" } },
    },
  ]);
}

/**
 * The apply role's second policy, attached as a managed policy: what the monitoring of the instance
 * needs (the events topic, the event subscription, the CloudWatch alarms). Apart from the inline policy
 * because IAM limits a role's inline policies to 10,240 characters in all; a managed policy has 6,144
 * of its own (IAM User Guide, "IAM and AWS STS quotas").
 */
export function applyRoleMonitoringPolicy(input: CiRolePolicyInput): string {
  const a = arnsOf(input);
  return document([
    {
      // aws_sns_topic (CreateTopic with its key and tags, SetTopicAttributes) and aws_sns_topic_policy.
      Sid: "EventsTopic",
      Effect: "Allow",
      Action: ["sns:CreateTopic", "sns:DeleteTopic", "sns:SetTopicAttributes", "sns:TagResource", "sns:UntagResource"],
      Resource: a.eventsTopic,
    },
    {
      // aws_db_event_subscription: created with its source ids, which change as replicas come and go.
      Sid: "EventSubscription",
      Effect: "Allow",
      Action: [
        "rds:CreateEventSubscription",
        "rds:ModifyEventSubscription",
        "rds:DeleteEventSubscription",
        "rds:AddSourceIdentifierToSubscription",
        "rds:RemoveSourceIdentifierFromSubscription",
        "rds:AddTagsToResource",
        "rds:RemoveTagsFromResource",
      ],
      Resource: a.eventSubscription,
    },
    {
      // aws_cloudwatch_metric_alarm: PutMetricAlarm (create and update, with tags), DescribeAlarms and
      // ListTagsForResource (read), DeleteAlarms.
      Sid: "Alarms",
      Effect: "Allow",
      Action: ["cloudwatch:PutMetricAlarm", "cloudwatch:DeleteAlarms", "cloudwatch:TagResource", "cloudwatch:UntagResource"],
      Resource: a.alarms,
    },
  ]);
}

function document(statements: Statement[]): string {
  return JSON.stringify({ Version: "2012-10-17", Statement: statements });
}

/** Trust: GitHub's OIDC tokens for this repository, with the given `sub` claims only. */
export function githubTrustPolicy(oidcProviderArn: string, subjects: readonly string[]): string {
  return document([
    {
      Effect: "Allow",
      Principal: { Federated: oidcProviderArn },
      Action: "sts:AssumeRoleWithWebIdentity",
      Condition: {
        // StringEquals, not StringLike: no wildcard can widen who may assume the role. `sub` holds one
        // value, so a list here means "any of these".
        StringEquals: {
          "token.actions.githubusercontent.com:aud": "sts.amazonaws.com",
          "token.actions.githubusercontent.com:sub": [...subjects],
        },
      },
    },
  ]);
}
