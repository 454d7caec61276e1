// The CI roles of the bootstrap stack, proven against the calls Terraform really makes (issue 9,
// findings 6–8): every AWS API call a plan, an apply and a destroy of an environment's two stacks
// make, with the request context it carries, is simulated by a real IAM policy evaluator
// (@cloud-copilot/iam-simulate, with AWS's service authorization data) against the synthesized
// policies: the role that must make it is allowed, the other is denied, and no environment's role
// reaches another's resources. Each call names where it comes from (the provider function, or the
// AWS documentation of the service that makes it on the caller's behalf).

import { runSimulation, Simulation } from "@cloud-copilot/iam-simulate";
import { synthApp, TerraformJson } from "../support/synth";

const ACCOUNT = "123456789012";
const REGION = "eu-central-1";
const BUCKET = "pulse-tf-state";
const REPOSITORY = "acme/pulse-analytics-postgres";
const OIDC_PROVIDER = `arn:aws:iam::${ACCOUNT}:oidc-provider/token.actions.githubusercontent.com`;
const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
/** aws:userid of an assumed-role session: the role's id and the session name. */
const SESSION_USER_ID = "AROAEXAMPLEROLEID:github-actions";
type Environment = (typeof ENVIRONMENTS)[number];
type Kind = "plan" | "apply";

const stacks = synthApp({ stateBackend: { bucket: BUCKET, region: REGION } });
const bootstrap = stacks.bootstrap;

/** A synthesized policy with its Terraform references replaced by what they are in the test account. */
function resolved(text: string): any {
  const values: Array<[RegExp, string]> = [
    [/\$\{data\.aws_partition\.[^.}]+\.partition\}/g, "aws"],
    [/\$\{data\.aws_caller_identity\.[^.}]+\.account_id\}/g, ACCOUNT],
    [/\$\{data\.aws_region\.[^.}]+\.region\}/g, REGION],
    [/\$\{var\.aws_region\}/g, REGION],
    [/\$\{aws_s3_bucket\.[^.}]+\.bucket\}/g, BUCKET],
    [/\$\{aws_iam_openid_connect_provider\.[^.}]+\.arn\}/g, OIDC_PROVIDER],
    [/\$\{var\.github_repository\}/g, REPOSITORY],
    [/\$\{var\.state_bucket\}/g, BUCKET],
  ];
  const substituted = values.reduce((acc, [pattern, value]) => acc.replace(pattern, value), text);
  const unresolved = substituted.match(/(?<!\$)\$\{[^}]*\}/);
  if (unresolved) throw new Error(`unresolved Terraform reference ${unresolved[0]}`);
  // "$${aws:userid}" is how Terraform writes a literal "${aws:userid}", an IAM policy variable.
  return JSON.parse(substituted.replace(/\$\$\{/g, "${"));
}

function blocks(json: TerraformJson, type: string): Array<[string, any]> {
  return Object.entries(json.resource[type] ?? {});
}

/** The role's identity policy and trust policy, as the bootstrap stack synthesizes them. */
function ciRole(environment: Environment, kind: Kind): { arn: string; policy: any; managed: Array<{ name: string; policy: any }>; trust: any } {
  const name = `pulse-analytics-${environment}-${kind}`;
  const [id, role] = blocks(bootstrap, "aws_iam_role").find(([, block]) => block.name === name)!;
  const [, inline] = blocks(bootstrap, "aws_iam_role_policy").find(([, block]) => block.role === `\${aws_iam_role.${id}.name}`)!;
  // Managed policies attached to the role in the same stack (aws_iam_role_policy_attachment → aws_iam_policy).
  const managed = blocks(bootstrap, "aws_iam_role_policy_attachment")
    .filter(([, attachment]) => attachment.role === `\${aws_iam_role.${id}.name}`)
    .map(([, attachment]) => {
      const [, policy] = blocks(bootstrap, "aws_iam_policy").find(([policyId]) => attachment.policy_arn === `\${aws_iam_policy.${policyId}.arn}`)!;
      return { name: policy.name as string, policy: resolved(policy.policy) };
    });
  return { arn: `arn:aws:iam::${ACCOUNT}:role/${name}`, policy: resolved(inline.policy), managed, trust: resolved(role.assume_role_policy) };
}

const keyPolicyOf = (environment: Environment) => resolved(Object.values(stacks[`${environment}-instance`].resource.aws_kms_key)[0].policy);
const bucketPolicy = resolved(blocks(bootstrap, "aws_s3_bucket_policy")[0][1].policy);

/** One AWS API call: what is asked, on what, with which request context, and why Terraform asks it. */
interface Call {
  readonly action: string;
  readonly resource: string;
  readonly context?: Record<string, string | string[]>;
  /** The resource policy AWS evaluates with the caller's policies. */
  readonly resourcePolicy?: "key" | "bucket";
  /** Why every environment's role may make this call on this resource (it is not one environment's). */
  readonly shared?: string;
  readonly source: string;
}

/** The ARNs of one environment's resources, as AWS names them. */
function resourcesOf(environment: Environment) {
  const identifier = `pulse-analytics-${environment}`;
  const rds = (type: string, name: string) => `arn:aws:rds:${REGION}:${ACCOUNT}:${type}:${name}`;
  const secret = (name: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}`;
  return {
    identifier,
    db: rds("db", identifier),
    replica: rds("db", `${identifier}-replica-1`),
    eventSubscription: rds("es", `${identifier}-events`),
    eventsTopic: `arn:aws:sns:${REGION}:${ACCOUNT}:${identifier}-events`,
    cpuAlarm: `arn:aws:cloudwatch:${REGION}:${ACCOUNT}:alarm:${identifier}-cpu`,
    replicaParameterGroup: rds("pg", `${identifier}-replica-postgres17-20261125000000000000000002`),
    replicaLogGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/rds/instance/${identifier}-replica-1/postgresql`,
    parameterGroup: rds("pg", `${identifier}-postgres17-20261125000000000000000001`),
    subnetGroup: rds("subgrp", identifier),
    optionGroup: rds("og", "default:postgres-17"),
    finalSnapshot: rds("snapshot", `${identifier}-final-snapshot`),
    key: `arn:aws:kms:${REGION}:${ACCOUNT}:key/0a1b2c3d-1111-2222-3333-44445555${ENVIRONMENTS.indexOf(environment)}666`,
    alias: `arn:aws:kms:${REGION}:${ACCOUNT}:alias/${identifier}`,
    masterSecret: secret("rds!db-0a1b2c3d-1111-2222-3333-444455556666-AbCdEf"),
    appSecret: secret(`${identifier}/pulse_analytics_app-AbCdEf`),
    securityGroup: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group/sg-0a1b2c3d4e5f60718`,
    securityGroupRule: `arn:aws:ec2:${REGION}:${ACCOUNT}:security-group-rule/sgr-0a1b2c3d4e5f60718`,
    vpc: `arn:aws:ec2:${REGION}:${ACCOUNT}:vpc/vpc-0a1b2c3d4e5f60718`,
    bastion: `arn:aws:ec2:${REGION}:${ACCOUNT}:instance/i-0a1b2c3d4e5f60718`,
    logGroup: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/rds/instance/${identifier}/postgresql`,
    monitoringRole: `arn:aws:iam::${ACCOUNT}:role/${identifier}-rds-monitoring`,
    // An environment whose config lists iamAuthenticatedRoles (connectPolicyName).
    appConnectPolicy: `arn:aws:iam::${ACCOUNT}:policy/${identifier}-pulse_analytics_app-connect`,
    state: (stack: string) => `arn:aws:s3:::${BUCKET}/pulse-analytics/${stack}/terraform.tfstate`,
  };
}

/**
 * The tags of a create request, read from the synthesized instance stack: its aws provider's
 * default_tags under the instance's own tags, as the provider merges them (test/stacks/pulse-analytics-stack.test.ts, "tags").
 */
const tags = (environment: Environment) => {
  const json = stacks[`${environment}-instance`];
  const sent: Record<string, string> = { ...json.provider.aws[0].default_tags[0].tags, ...Object.values(json.resource.aws_db_instance)[0].tags };
  return { ...Object.fromEntries(Object.entries(sent).map(([key, value]) => [`aws:RequestTag/${key}`, value])), "aws:TagKeys": Object.keys(sent) };
};
const resourceTags = (environment: Environment) => ({ "aws:ResourceTag/project": "pulse", "aws:ResourceTag/environment": environment });
const via = (service: string) => ({ "kms:ViaService": `${service}.${REGION}.amazonaws.com`, "kms:CallerAccount": ACCOUNT });
const tls = { "aws:SecureTransport": "true" };

/** Every call a plan of both stacks makes: the refresh of each resource, the state, the secrets, the tunnel. */
function planCalls(environment: Environment): Call[] {
  const r = resourcesOf(environment);
  const state = (stack: string): Call[] => [
    {
      action: "s3:ListBucket",
      resource: `arn:aws:s3:::${BUCKET}`,
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend: list the state key",
    },
    { action: "s3:GetObject", resource: r.state(stack), context: tls, resourcePolicy: "bucket", source: "Terraform S3 backend: read the state" },
    {
      action: "s3:PutObject",
      resource: `${r.state(stack)}.tflock`,
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend use_lockfile: take the lock",
    },
    {
      action: "s3:GetObject",
      resource: `${r.state(stack)}.tflock`,
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend use_lockfile: read a held lock",
    },
    {
      action: "s3:DeleteObject",
      resource: `${r.state(stack)}.tflock`,
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend use_lockfile: release the lock",
    },
  ];
  return [
    ...state(`${environment}-instance`),
    ...state(environment),
    { action: "kms:DescribeKey", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Read (resourceKeyRead → findKeyByID)" },
    { action: "kms:GetKeyPolicy", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Read (findKeyPolicyByTwoPartKey)" },
    { action: "kms:GetKeyRotationStatus", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Read (findKeyRotationEnabledByKeyID)" },
    { action: "kms:ListResourceTags", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Read (listTags)" },
    { action: "kms:ListAliases", resource: "*", source: "aws_kms_alias Read (findAliasByName)" },
    // The instance is read by its resource id (a dbi-resource-id filter, no identifier): RDS authorizes db:*.
    {
      action: "rds:DescribeDBInstances",
      resource: `arn:aws:rds:${REGION}:${ACCOUNT}:db:*`,
      shared: "a filtered describe names no instance",
      source: "aws_db_instance Read (findDBInstanceByID, dbi-resource-id filter)",
    },
    {
      action: "rds:DescribeDBInstances",
      resource: r.db,
      shared: "allowed on db:* for the filtered read above, so on every instance's metadata too",
      source: "aws_db_instance Create (waitDBInstanceAvailable, by identifier)",
    },
    { action: "rds:DescribeDBParameterGroups", resource: r.parameterGroup, source: "aws_db_parameter_group Read" },
    { action: "rds:DescribeDBParameters", resource: r.parameterGroup, source: "aws_db_parameter_group Read (user parameters)" },
    { action: "rds:ListTagsForResource", resource: r.parameterGroup, source: "aws_db_parameter_group Read (tags)" },
    { action: "rds:DescribeDBSubnetGroups", resource: r.subnetGroup, source: "aws_db_subnet_group Read" },
    { action: "rds:ListTagsForResource", resource: r.subnetGroup, source: "aws_db_subnet_group Read (tags)" },
    { action: "rds:ListTagsForResource", resource: r.replica, source: "aws_db_instance Read (a read replica's tags)" },
    { action: "rds:DescribeEventSubscriptions", resource: r.eventSubscription, source: "aws_db_event_subscription Read" },
    { action: "rds:ListTagsForResource", resource: r.eventSubscription, source: "aws_db_event_subscription Read (tags)" },
    { action: "sns:GetTopicAttributes", resource: r.eventsTopic, source: "aws_sns_topic Read, aws_sns_topic_policy Read" },
    { action: "sns:ListTagsForResource", resource: r.eventsTopic, source: "aws_sns_topic Read (tags)" },
    { action: "cloudwatch:DescribeAlarms", resource: r.cpuAlarm, source: "aws_cloudwatch_metric_alarm Read (findMetricAlarmByName)" },
    { action: "cloudwatch:ListTagsForResource", resource: r.cpuAlarm, source: "aws_cloudwatch_metric_alarm Read (tags)" },
    { action: "rds:DescribeDBParameters", resource: r.replicaParameterGroup, source: "aws_db_parameter_group Read (the replicas')" },
    { action: "logs:ListTagsForResource", resource: r.replicaLogGroup, source: "aws_cloudwatch_log_group Read (a replica's tags)" },
    { action: "ec2:DescribeSecurityGroups", resource: "*", source: "aws_security_group Read" },
    { action: "ec2:DescribeSecurityGroupRules", resource: "*", source: "aws_vpc_security_group_ingress_rule Read" },
    { action: "logs:DescribeLogGroups", resource: "*", source: "aws_cloudwatch_log_group Read" },
    { action: "logs:ListTagsForResource", resource: r.logGroup, source: "aws_cloudwatch_log_group Read (tags)" },
    { action: "iam:GetRole", resource: r.monitoringRole, source: "aws_iam_role Read" },
    { action: "iam:ListAttachedRolePolicies", resource: r.monitoringRole, source: "aws_iam_role_policy_attachment Read" },
    { action: "iam:ListRolePolicies", resource: r.monitoringRole, source: "aws_iam_role Read (inline policies)" },
    { action: "iam:GetPolicy", resource: r.appConnectPolicy, source: "aws_iam_policy Read (findPolicyByARN)" },
    { action: "iam:GetPolicyVersion", resource: r.appConnectPolicy, source: "aws_iam_policy Read (findPolicyVersionByTwoPartKey)" },
    {
      // The ephemeral master secret, opened at every plan and apply (secret_version_ephemeral.go, Open).
      action: "secretsmanager:GetSecretValue",
      resource: r.masterSecret,
      context: { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": r.db, "aws:ResourceTag/aws:secretsmanager:owningService": "rds" },
      source: "ephemeral aws_secretsmanager_secret_version Open",
    },
    {
      action: "kms:Decrypt",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "Secrets Manager decrypts a secret value with the caller's permissions",
    },
    { action: "secretsmanager:DescribeSecret", resource: r.appSecret, source: "aws_secretsmanager_secret Read" },
    { action: "secretsmanager:GetResourcePolicy", resource: r.appSecret, source: "aws_secretsmanager_secret Read (policy)" },
    { action: "secretsmanager:GetSecretValue", resource: r.appSecret, source: "aws_secretsmanager_secret_version Read" },
    {
      action: "ssm:StartSession",
      resource: r.bastion,
      context: { [`ssm:resourceTag/pulse-analytics-bastion`]: environment },
      source: "aws ssm start-session: the target instance",
    },
    // The request names the AWS-owned document without an account (arn:aws:ssm:<region>::document/…),
    // which the simulator's ARN parser refuses; the account's form is simulated, and the policy's "*"
    // account matches both.
    {
      action: "ssm:StartSession",
      resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:document/AWS-StartPortForwardingSessionToRemoteHost`,
      source: "aws ssm start-session: the AWS-owned document (no tags)",
    },
    {
      action: "ssm:TerminateSession",
      resource: `arn:aws:ssm:${REGION}:${ACCOUNT}:session/pulse-analytics-plan-${environment}-987654321-0a1b2c3d4e5f60718`,
      // Session Manager tags a session with its caller's aws:userid ("Additional sample IAM policies for
      // Session Manager"); the shared flag: any environment's role may end its own sessions.
      context: { "ssm:resourceTag/aws:ssmmessages:session-id": SESSION_USER_ID, "aws:userid": SESSION_USER_ID },
      shared: "a role may end its own sessions, whichever instance they reach",
      source: "aws ssm start-session: ending the session",
    },
    { action: "ssmmessages:OpenDataChannel", resource: "*", source: "session-manager-plugin: the session's data channel" },
  ];
}

/** Every call an apply (create and update) and a destroy of both stacks make. */
function applyCalls(environment: Environment): Call[] {
  const r = resourcesOf(environment);
  return [
    {
      action: "s3:GetObject",
      resource: `arn:aws:s3:::${BUCKET}/plans/${environment}/987654321/tfplan`,
      context: tls,
      resourcePolicy: "bucket",
      source: "terraform-apply.yml: fetch the reviewed plan",
    },
    {
      action: "s3:PutObject",
      resource: r.state(`${environment}-instance`),
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend: write the state",
    },
    {
      action: "s3:PutObject",
      resource: r.state(environment),
      context: tls,
      resourcePolicy: "bucket",
      source: "Terraform S3 backend: write the state",
    },
    // The key: created with its tags and policy in one CreateKey (resourceKeyCreate); tagging at creation
    // needs kms:TagResource too (AWS KMS, "Tagging keys"). Everything after goes through the key policy.
    {
      action: "kms:CreateKey",
      resource: "*",
      context: { ...tags(environment), "kms:KeySpec": "SYMMETRIC_DEFAULT", "kms:KeyUsage": "ENCRYPT_DECRYPT" },
      source: "aws_kms_key Create (CreateKey with Policy and Tags)",
    },
    // AWS checks tags given to CreateKey as kms:TagResource in IAM; the key policy of the same request
    // (its account-root statement) is what lets IAM count, so it is the resource policy here.
    {
      action: "kms:TagResource",
      resource: r.key,
      context: tags(environment),
      resourcePolicy: "key",
      source: "aws_kms_key Create: tags in the CreateKey request",
    },
    { action: "kms:EnableKeyRotation", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Create (updateKeyRotationEnabled)" },
    { action: "kms:PutKeyPolicy", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Update (updateKeyPolicy)" },
    { action: "kms:TagResource", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Update (tags)" },
    { action: "kms:ScheduleKeyDeletion", resource: r.key, resourcePolicy: "key", source: "aws_kms_key Delete" },
    { action: "kms:CreateAlias", resource: r.alias, source: "aws_kms_alias Create: the alias side" },
    { action: "kms:CreateAlias", resource: r.key, resourcePolicy: "key", source: "aws_kms_alias Create: the key side" },
    { action: "kms:DeleteAlias", resource: r.alias, source: "aws_kms_alias Delete: the alias side" },
    { action: "kms:DeleteAlias", resource: r.key, resourcePolicy: "key", source: "aws_kms_alias Delete: the key side" },
    // RDS uses the key with the caller's permissions (AWS KMS, "How Amazon RDS uses AWS KMS").
    {
      action: "kms:DescribeKey",
      resource: r.key,
      context: via("rds"),
      resourcePolicy: "key",
      source: "CreateDBInstance with KmsKeyId: RDS checks the key",
    },
    {
      action: "kms:CreateGrant",
      resource: r.key,
      context: { ...via("rds"), "kms:GrantIsForAWSResource": "true" },
      resourcePolicy: "key",
      source: "CreateDBInstance with KmsKeyId: RDS's grant",
    },
    // manage_master_user_password with a customer-managed key: the caller needs kms:Decrypt,
    // kms:GenerateDataKey and kms:CreateGrant (RDS User Guide, "Password management with Amazon RDS and
    // AWS Secrets Manager", required permissions).
    {
      action: "kms:GenerateDataKey",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "manage_master_user_password: the secret is encrypted with the key",
    },
    {
      action: "kms:Decrypt",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "manage_master_user_password: the secret is read back",
    },
    {
      action: "kms:CreateGrant",
      resource: r.key,
      context: { ...via("secretsmanager"), "kms:GrantIsForAWSResource": "true" },
      resourcePolicy: "key",
      source: "manage_master_user_password: the grant for rotation",
    },
    {
      action: "kms:DescribeKey",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "manage_master_user_password: the key is checked",
    },
    {
      action: "kms:GenerateDataKey",
      resource: r.key,
      context: via("rds"),
      resourcePolicy: "key",
      source: "Performance Insights encrypted with the key",
    },
    { action: "rds:CreateDBParameterGroup", resource: r.parameterGroup, context: tags(environment), source: "aws_db_parameter_group Create" },
    { action: "rds:ModifyDBParameterGroup", resource: r.parameterGroup, source: "aws_db_parameter_group Create/Update (parameters)" },
    { action: "rds:AddTagsToResource", resource: r.parameterGroup, context: tags(environment), source: "aws_db_parameter_group Update (tags)" },
    { action: "rds:DeleteDBParameterGroup", resource: r.parameterGroup, source: "aws_db_parameter_group Delete" },
    { action: "rds:CreateDBSubnetGroup", resource: r.subnetGroup, context: tags(environment), source: "aws_db_subnet_group Create" },
    { action: "rds:DeleteDBSubnetGroup", resource: r.subnetGroup, source: "aws_db_subnet_group Delete" },
    ...[r.db, r.parameterGroup, r.subnetGroup].map((resource): Call => ({
      action: "rds:CreateDBInstance",
      resource,
      context: { ...tags(environment), "rds:ManageMasterUserPassword": "true" },
      source: "aws_db_instance Create (CreateDBInstance)",
    })),
    {
      action: "rds:CreateDBInstance",
      resource: r.optionGroup,
      context: { ...tags(environment), "rds:ManageMasterUserPassword": "true" },
      shared: "RDS's default option group serves every instance of the engine version",
      source: "aws_db_instance Create (CreateDBInstance): the default option group",
    },
    { action: "rds:ModifyDBInstance", resource: r.db, source: "aws_db_instance Update" },
    { action: "rds:ModifyDBInstance", resource: r.parameterGroup, source: "aws_db_instance Update: a new parameter group (major upgrade)" },
    { action: "rds:AddTagsToResource", resource: r.db, context: tags(environment), source: "aws_db_instance Update (tags)" },
    { action: "rds:DeleteDBInstance", resource: r.db, source: "aws_db_instance Delete" },
    { action: "rds:CreateDBSnapshot", resource: r.finalSnapshot, source: "aws_db_instance Delete: the final snapshot" },
    // A read replica: created from the source (authorized on both), changed, tagged and deleted like the primary.
    ...[r.db, r.replica, r.replicaParameterGroup, r.subnetGroup].map((resource): Call => ({
      action: "rds:CreateDBInstanceReadReplica",
      resource,
      context: tags(environment),
      source: "aws_db_instance Create with replicate_source_db (CreateDBInstanceReadReplica)",
    })),
    {
      action: "rds:CreateDBParameterGroup",
      resource: r.replicaParameterGroup,
      context: tags(environment),
      source: "aws_db_parameter_group Create (replicas)",
    },
    { action: "rds:ModifyDBInstance", resource: r.replica, source: "aws_db_instance Update (replica)" },
    { action: "rds:AddTagsToResource", resource: r.replica, context: tags(environment), source: "aws_db_instance Update (replica tags)" },
    { action: "rds:DeleteDBInstance", resource: r.replica, source: "aws_db_instance Delete (replica)" },
    { action: "logs:CreateLogGroup", resource: r.replicaLogGroup, context: tags(environment), source: "aws_cloudwatch_log_group Create (replica)" },
    { action: "logs:PutRetentionPolicy", resource: r.replicaLogGroup, source: "aws_cloudwatch_log_group Create (replica retention)" },
    {
      action: "sns:CreateTopic",
      resource: r.eventsTopic,
      context: tags(environment),
      source: "aws_sns_topic Create (its key and tags in the request)",
    },
    { action: "sns:TagResource", resource: r.eventsTopic, context: tags(environment), source: "aws_sns_topic Create (tags)" },
    { action: "sns:SetTopicAttributes", resource: r.eventsTopic, source: "aws_sns_topic Update, aws_sns_topic_policy Create" },
    { action: "sns:DeleteTopic", resource: r.eventsTopic, source: "aws_sns_topic Delete" },
    { action: "rds:CreateEventSubscription", resource: r.eventSubscription, context: tags(environment), source: "aws_db_event_subscription Create" },
    { action: "rds:ModifyEventSubscription", resource: r.eventSubscription, source: "aws_db_event_subscription Update" },
    { action: "rds:AddSourceIdentifierToSubscription", resource: r.eventSubscription, source: "aws_db_event_subscription Update (a new replica)" },
    {
      action: "rds:RemoveSourceIdentifierFromSubscription",
      resource: r.eventSubscription,
      source: "aws_db_event_subscription Update (a replica gone)",
    },
    { action: "rds:DeleteEventSubscription", resource: r.eventSubscription, source: "aws_db_event_subscription Delete" },
    {
      action: "cloudwatch:PutMetricAlarm",
      resource: r.cpuAlarm,
      context: tags(environment),
      source: "aws_cloudwatch_metric_alarm Create and Update",
    },
    { action: "cloudwatch:TagResource", resource: r.cpuAlarm, context: tags(environment), source: "aws_cloudwatch_metric_alarm Update (tags)" },
    { action: "cloudwatch:DeleteAlarms", resource: r.cpuAlarm, source: "aws_cloudwatch_metric_alarm Delete" },
    // RDS creates and rotates the managed master secret with the caller's permissions (RDS User Guide,
    // "Password management with Amazon RDS and AWS Secrets Manager", required permissions).
    ...["CreateSecret", "TagResource"].map((verb): Call => ({
      action: `secretsmanager:${verb}`,
      resource: r.masterSecret,
      shared: "a secret RDS is creating has a random name (rds!db-<uuid>) and no tag yet to tell its environment",
      source: `manage_master_user_password: RDS calls ${verb} with the caller's permissions`,
    })),
    ...["RotateSecret", "DeleteSecret"].map((verb): Call => ({
      action: `secretsmanager:${verb}`,
      resource: r.masterSecret,
      context: { "aws:ResourceTag/aws:rds:primaryDBInstanceArn": r.db, "aws:ResourceTag/aws:secretsmanager:owningService": "rds" },
      source: `manage_master_user_password: RDS calls ${verb} with the caller's permissions`,
    })),
    {
      action: "iam:PassRole",
      resource: r.monitoringRole,
      context: { "iam:PassedToService": "rds.amazonaws.com" },
      source: "CreateDBInstance with MonitoringRoleArn",
    },
    {
      action: "iam:CreateServiceLinkedRole",
      resource: `arn:aws:iam::${ACCOUNT}:role/aws-service-role/rds.amazonaws.com/AWSServiceRoleForRDS`,
      context: { "iam:AWSServiceName": "rds.amazonaws.com" },
      shared: "one service-linked role per account",
      source: "the first RDS instance of an account",
    },
    { action: "iam:CreateRole", resource: r.monitoringRole, context: tags(environment), source: "aws_iam_role Create" },
    { action: "iam:TagRole", resource: r.monitoringRole, context: tags(environment), source: "aws_iam_role Create (tags)" },
    { action: "iam:AttachRolePolicy", resource: r.monitoringRole, source: "aws_iam_role_policy_attachment Create" },
    { action: "iam:DetachRolePolicy", resource: r.monitoringRole, source: "aws_iam_role_policy_attachment Delete" },
    { action: "iam:ListInstanceProfilesForRole", resource: r.monitoringRole, source: "aws_iam_role Delete" },
    { action: "iam:DeleteRole", resource: r.monitoringRole, source: "aws_iam_role Delete" },
    { action: "iam:CreatePolicy", resource: r.appConnectPolicy, context: tags(environment), source: "aws_iam_policy Create" },
    { action: "iam:TagPolicy", resource: r.appConnectPolicy, context: tags(environment), source: "aws_iam_policy Create (tags)" },
    { action: "iam:CreatePolicyVersion", resource: r.appConnectPolicy, source: "aws_iam_policy Update" },
    { action: "iam:ListPolicyVersions", resource: r.appConnectPolicy, source: "aws_iam_policy Update (policyPruneVersions) and Delete" },
    { action: "iam:DeletePolicyVersion", resource: r.appConnectPolicy, source: "aws_iam_policy Update (policyPruneVersions) and Delete" },
    { action: "iam:DeletePolicy", resource: r.appConnectPolicy, source: "aws_iam_policy Delete" },
    {
      action: "ec2:CreateSecurityGroup",
      resource: r.securityGroup,
      context: tags(environment),
      source: "aws_security_group Create (TagSpecifications)",
    },
    {
      action: "ec2:CreateSecurityGroup",
      resource: r.vpc,
      shared: "the VPC is the network's, not the environment's",
      source: "aws_security_group Create: the VPC",
    },
    {
      action: "ec2:CreateTags",
      resource: r.securityGroup,
      context: { ...tags(environment), "ec2:CreateAction": "CreateSecurityGroup" },
      source: "aws_security_group Create: tags on create",
    },
    {
      action: "ec2:RevokeSecurityGroupEgress",
      resource: r.securityGroup,
      context: resourceTags(environment),
      source: "aws_security_group Create: drop the default egress rule",
    },
    {
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: r.securityGroup,
      context: resourceTags(environment),
      source: "aws_vpc_security_group_ingress_rule Create",
    },
    {
      action: "ec2:AuthorizeSecurityGroupIngress",
      resource: r.securityGroupRule,
      context: tags(environment),
      shared: "a new rule belongs to no environment yet; the call is also authorized against the group, which does",
      source: "aws_vpc_security_group_ingress_rule Create: the new rule",
    },
    {
      action: "ec2:CreateTags",
      resource: r.securityGroupRule,
      context: { ...tags(environment), "ec2:CreateAction": "AuthorizeSecurityGroupIngress" },
      shared: "a new rule belongs to no environment yet; the call is also authorized against the group, which does",
      source: "aws_vpc_security_group_ingress_rule Create: TagSpecifications on the rule",
    },
    {
      action: "ec2:RevokeSecurityGroupIngress",
      resource: r.securityGroup,
      context: resourceTags(environment),
      source: "aws_vpc_security_group_ingress_rule Delete",
    },
    { action: "ec2:DeleteSecurityGroup", resource: r.securityGroup, context: resourceTags(environment), source: "aws_security_group Delete" },
    {
      action: "ec2:DeleteNetworkInterface",
      resource: `arn:aws:ec2:${REGION}:${ACCOUNT}:network-interface/eni-0a1b2c3d4e5f60718`,
      shared: "the interface RDS left is RDS's, with no tag of ours; AWS refuses to delete one in use",
      source: "aws_security_group Delete (deleteLingeringRDSENI)",
    },
    { action: "logs:CreateLogGroup", resource: r.logGroup, context: tags(environment), source: "aws_cloudwatch_log_group Create" },
    { action: "logs:PutRetentionPolicy", resource: r.logGroup, source: "aws_cloudwatch_log_group Create (retention)" },
    { action: "logs:TagResource", resource: r.logGroup, context: tags(environment), source: "aws_cloudwatch_log_group Update (tags)" },
    { action: "logs:DeleteLogGroup", resource: r.logGroup, source: "aws_cloudwatch_log_group Delete" },
    // The database stack: the login-role secrets.
    {
      action: "secretsmanager:CreateSecret",
      resource: r.appSecret,
      context: tags(environment),
      source: "aws_secretsmanager_secret Create (with KmsKeyId, Tags)",
    },
    // With a customer-managed key, CreateSecret checks the caller may use it (Secrets Manager, "Secret
    // encryption and decryption": GenerateDataKey and Decrypt with SecretVersionId RequestToValidateKeyAccess).
    {
      action: "kms:GenerateDataKey",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "CreateSecret with KmsKeyId: key access check",
    },
    {
      action: "kms:Decrypt",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "CreateSecret with KmsKeyId: key access check",
    },
    { action: "secretsmanager:PutSecretValue", resource: r.appSecret, source: "aws_secretsmanager_secret_version Create" },
    { action: "secretsmanager:UpdateSecretVersionStage", resource: r.appSecret, source: "aws_secretsmanager_secret_version Delete" },
    { action: "secretsmanager:DeleteSecret", resource: r.appSecret, source: "aws_secretsmanager_secret Delete" },
    {
      action: "kms:GenerateDataKey",
      resource: r.key,
      context: via("secretsmanager"),
      resourcePolicy: "key",
      source: "PutSecretValue: Secrets Manager encrypts with the caller's permissions",
    },
  ];
}

async function simulate(
  environment: Environment,
  role: { arn: string; policy: any; managed: Array<{ name: string; policy: any }> },
  call: Call,
): Promise<string> {
  const resourcePolicy = call.resourcePolicy === "key" ? keyPolicyOf(environment) : call.resourcePolicy === "bucket" ? bucketPolicy : undefined;
  const simulation: Simulation = {
    request: {
      principal: `arn:aws:sts::${ACCOUNT}:assumed-role/${role.arn.split("/").pop()}/github-actions`,
      action: call.action,
      resource: { resource: call.resource, accountId: ACCOUNT },
      contextVariables: { "aws:PrincipalArn": role.arn, "aws:PrincipalAccount": ACCOUNT, "aws:userid": SESSION_USER_ID, ...call.context },
    },
    identityPolicies: [{ name: "inline", policy: role.policy }, ...role.managed],
    serviceControlPolicies: [],
    resourceControlPolicies: [],
    resourcePolicy,
  };
  const response = await runSimulation(simulation, {});
  if (response.resultType === "error") throw new Error(`${call.action} on ${call.resource}: ${JSON.stringify(response.errors)}`);
  // A context key AWS does not know for the action is dropped, and a condition on it then fails as if
  // the key were missing: that would make a denial pass for the wrong reason.
  const ignored = response.resultType === "single" ? (response.result.ignoredContextKeys ?? []) : [];
  if (ignored.length > 0) throw new Error(`${call.action} on ${call.resource}: context keys not known for the action: ${ignored.join(", ")}`);
  return response.overallResult;
}

/** "[action] resource ← source: result" lines of every call whose result is not `expected`. */
async function unexpected(environment: Environment, kind: Kind, calls: Call[], expected: "Allowed" | "Denied", target: Environment = environment) {
  const role = ciRole(environment, kind);
  const lines: string[] = [];
  for (const call of calls) {
    const result = await simulate(target, role, call);
    const denied = result !== "Allowed";
    if ((expected === "Allowed") === denied) lines.push(`${call.action} ${call.resource} (${call.source}): ${result}`);
  }
  return lines;
}

describe.each(ENVIRONMENTS)("the %s CI roles", (environment) => {
  // IAM User Guide, "IAM and AWS STS quotas": a role's inline policies may total 10,240 characters,
  // white space not counted. Over it, CreateRole's PutRolePolicy fails at the bootstrap apply.
  // Measured with the longest values the references can take: a 63-character bucket name (S3's
  // limit) and a 14-character region name (ap-southeast-5, …).
  const longest = (policy: unknown) => JSON.stringify(policy).replaceAll(BUCKET, "b".repeat(63)).replaceAll(REGION, "ap-southeast-5").length;
  it.each(["plan", "apply"] as const)("keep the %s role's inline policy within IAM's 10,240 characters per role", (kind) => {
    expect(longest(ciRole(environment, kind).policy)).toBeLessThanOrEqual(10_240);
  });

  it("keep each managed policy of the apply role within IAM's 6,144 characters", () => {
    const { managed } = ciRole(environment, "apply");
    expect(managed.map((m) => m.name)).toEqual([`pulse-analytics-${environment}-apply-monitoring`]);
    for (const { policy } of managed) expect(longest(policy)).toBeLessThanOrEqual(6_144);
  });

  it("let the plan role make every call a plan of both stacks makes: refresh, state and lock, the secrets, the tunnel", async () => {
    expect(await unexpected(environment, "plan", planCalls(environment), "Allowed")).toEqual([]);
  }, 30_000);

  it("let the plan role keep its saved plan in the state bucket", async () => {
    const keep: Call = {
      action: "s3:PutObject",
      resource: `arn:aws:s3:::${BUCKET}/plans/${environment}/987654321/tfplan`,
      context: tls,
      resourcePolicy: "bucket",
      source: "terraform-plan.yml: keep the saved plan",
    };
    expect(await unexpected(environment, "plan", [keep], "Allowed")).toEqual([]);
  });

  it("let the apply role make every call an apply makes, including the database stack's plan in the apply job", async () => {
    expect(await unexpected(environment, "apply", [...planCalls(environment), ...applyCalls(environment)], "Allowed")).toEqual([]);
  }, 30_000);

  it("deny the plan role every call that creates, changes or destroys", async () => {
    // Reads (the plan role decrypts secrets through Secrets Manager too) are not changes.
    const changes = applyCalls(environment).filter((call) => !/^\w+:(Describe|Get|List|Decrypt)/.test(call.action));
    expect(changes.length).toBeGreaterThan(40);
    expect(await unexpected(environment, "plan", changes, "Denied")).toEqual([]);
  }, 30_000);

  it("deny both roles the resources of every other environment", async () => {
    for (const other of ENVIRONMENTS.filter((e) => e !== environment)) {
      for (const kind of ["plan", "apply"] as const) {
        const calls = [...planCalls(other), ...applyCalls(other)].filter(
          // Shared by design: calls that name no resource ("*"), the state bucket's listing, the AWS-owned
          // tunnel document, the role's own sessions.
          (call) => call.resource !== "*" && !call.shared && call.action !== "s3:ListBucket" && !call.resource.includes(":document/"),
        );
        expect({ other, kind, allowed: await unexpected(environment, kind, calls, "Denied", other) }).toEqual({ other, kind, allowed: [] });
      }
    }
  }, 60_000);

  it("do not start a session on an instance that is not the environment's bastion", async () => {
    const r = resourcesOf(environment);
    const untagged: Call = { action: "ssm:StartSession", resource: r.bastion, source: "an instance without the bastion tag" };
    for (const kind of ["plan", "apply"] as const) expect(await unexpected(environment, kind, [untagged], "Denied")).toEqual([]);
  });
});

describe("who may assume the CI roles", () => {
  /**
   * The trust policy, evaluated by the simulator for principal, action and role, with the conditions it
   * cannot evaluate itself returned: AWS's service data for sts:AssumeRoleWithWebIdentity lists
   * GitHub's newer claim keys but not the OIDC `sub` and `aud` keys, so the simulator reports those
   * conditions as ignored, and this checks them (StringEquals: the value is one of the listed ones).
   */
  async function mayAssume(environment: Environment, kind: Kind, token: { sub: string; aud?: string }, principal = OIDC_PROVIDER): Promise<boolean> {
    const { arn, trust } = ciRole(environment, kind);
    const claims: Record<string, string> = {
      "token.actions.githubusercontent.com:sub": token.sub,
      "token.actions.githubusercontent.com:aud": token.aud ?? "sts.amazonaws.com",
    };
    const response = await runSimulation(
      {
        request: { principal, action: "sts:AssumeRoleWithWebIdentity", resource: { resource: arn, accountId: ACCOUNT }, contextVariables: claims },
        identityPolicies: [],
        serviceControlPolicies: [],
        resourceControlPolicies: [],
        resourcePolicy: trust,
      },
      { simulationMode: "Discovery" },
    );
    if (response.resultType !== "single") throw new Error(JSON.stringify(response));
    if (response.overallResult !== "Allowed") return false;
    const allowing = response.result.analysis.resourceAnalysis!.allowStatements;
    return allowing.some((statement: any) =>
      (statement.ignoredConditions ?? []).every((condition: any) => {
        expect(condition.op).toBe("StringEquals");
        return [condition.values].flat().includes(claims[condition.key]);
      }),
    );
  }

  const sub = (what: string) => `repo:${REPOSITORY}:${what}`;

  it.each(ENVIRONMENTS)("%s: the apply role only from a job of the %s GitHub environment", async (environment) => {
    expect(await mayAssume(environment, "apply", { sub: sub(`environment:${environment}`) })).toBe(true);
    for (const other of [sub("pull_request"), sub("ref:refs/heads/main"), sub("ref:refs/heads/feature"), sub(`environment:${environment}-copy`)]) {
      expect({ other, allowed: await mayAssume(environment, "apply", { sub: other }) }).toEqual({ other, allowed: false });
    }
    for (const otherEnvironment of ENVIRONMENTS.filter((e) => e !== environment)) {
      expect(await mayAssume(environment, "apply", { sub: sub(`environment:${otherEnvironment}`) })).toBe(false);
    }
  });

  it("a pull request reaches no apply role and only dev's plan role", async () => {
    for (const environment of ENVIRONMENTS) {
      expect(await mayAssume(environment, "apply", { sub: sub("pull_request") })).toBe(false);
      expect(await mayAssume(environment, "plan", { sub: sub("pull_request") })).toBe(environment === "dev");
      expect(await mayAssume(environment, "plan", { sub: sub("ref:refs/heads/main") })).toBe(true);
    }
  });

  it("nobody else: another repository, another audience, another identity provider", async () => {
    expect(await mayAssume("prod", "apply", { sub: "repo:someone/else:environment:prod" })).toBe(false);
    expect(await mayAssume("prod", "apply", { sub: sub("environment:prod"), aud: "https://example.com" })).toBe(false);
    expect(await mayAssume("prod", "apply", { sub: sub("environment:prod") }, `arn:aws:iam::${ACCOUNT}:oidc-provider/gitlab.com`)).toBe(false);
  });

  it("allows a session as long as the longest apply, and no wildcard subject", () => {
    for (const [, role] of blocks(bootstrap, "aws_iam_role")) {
      expect(role.max_session_duration).toBe(7200);
      expect(role.assume_role_policy).not.toMatch(/StringLike|\*/);
    }
  });
});
