// The props of the PulseAnalyticsPostgres construct: their documented defaults, chosen in one place,
// and the validation that holds every literal prop to the rules in src/config/rules.ts.

import { IResolvable, Token } from "cdktf";
import * as rules from "../config/rules";
import { DatabaseInsightsMode, EngineMajorVersion, InvalidInputError, Rule } from "../config/rules";
import { DEFAULT_DATABASE_NAME, LOGIN_ROLE_KEYS, LoginRoleKey } from "../roles/role-model";
import { classMemoryGib } from "./alarms";

/** Where the database lives and who may reach it. The construct creates no VPC. */
export interface PulseAnalyticsNetworkProps {
  /** The existing VPC to place the database in. */
  readonly vpcId: string;
  /**
   * At least two private subnets of `vpcId`, in different availability zones, for the DB subnet group
   * the construct creates. Give this or `dbSubnetGroupName`, not both.
   * @default undefined (required unless `dbSubnetGroupName` is given)
   */
  readonly subnetIds?: string[];
  /**
   * An existing DB subnet group of `vpcId` to place the instance in (bring your own: one a platform
   * team manages), instead of the one the construct creates on `subnetIds`.
   * @default undefined (the construct creates `${identifier}` on `subnetIds`)
   */
  readonly dbSubnetGroupName?: string;
  /**
   * Security groups admitted on the database port: the PULSE backend's, and the deploy host's.
   * @default [] (but at least one group or CIDR block is required)
   */
  readonly allowedSecurityGroupIds?: string[];
  /**
   * CIDR blocks admitted on the database port, e.g. a VPN range. Never 0.0.0.0/0 or ::/0.
   * @default []
   */
  readonly allowedCidrBlocks?: string[];
}

/**
 * Everything but the network: the instance's name, size, protection and behaviour. An environment
 * config sets these; the database level (PulseAnalyticsDatabase) reads them too.
 */
export interface PulseAnalyticsPostgresSettings {
  /**
   * The RDS DB instance identifier, e.g. "pulse-analytics-prod". The names of the key alias, parameter
   * and subnet groups, security group, log groups, monitoring role, final snapshot, login-role secrets
   * and provider aliases derive from it, so it is unique per account and region.
   */
  readonly identifier: string;
  /**
   * PostgreSQL major version (16, 17 or 18). Only the major is pinned, so RDS's automatic minor
   * upgrades cause no drift.
   * @default 17
   */
  readonly engineMajorVersion?: EngineMajorVersion;
  /**
   * A full engine version ("17.9") instead of the major's default minor, for a major upgrade whose
   * default minor is not a valid upgrade target from the running version (RDS: "Cannot upgrade
   * postgres from 16.13 to 17.6"; docs/operations.md, "Major version upgrade"). Unset it after the
   * upgrade: the major alone matches every later minor, a pinned minor does not.
   * @default undefined (`engineMajorVersion` alone: RDS picks the major's default minor)
   */
  readonly engineVersion?: string;
  /**
   * RDS DB instance class.
   * @default "db.t4g.micro"
   */
  readonly instanceClass?: string;
  /**
   * Initial gp3 storage in GiB (20–65,536).
   * @default 20
   */
  readonly allocatedStorageGb?: number;
  /**
   * Storage autoscaling ceiling in GiB; at least 10% above `allocatedStorageGb`.
   * @default 100
   */
  readonly maxAllocatedStorageGb?: number;
  /**
   * Provisioned gp3 IOPS (12,000–64,000): required from 400 GiB of storage, refused below it.
   * @default undefined (the gp3 baseline of 3,000 IOPS, below 400 GiB)
   */
  readonly iops?: number;
  /**
   * Provisioned gp3 throughput in MiB/s (500–4,000, at most iops / 4): required with `iops`.
   * @default undefined (the gp3 baseline of 125 MiB/s, below 400 GiB)
   */
  readonly storageThroughputMibps?: number;
  /**
   * Run a synchronous standby in a second availability zone.
   * @default false
   */
  readonly multiAz?: boolean | IResolvable;
  /**
   * Days of automated backups and point-in-time recovery: from `minimumBackupRetentionDays` to 35.
   * @default 7
   */
  readonly backupRetentionDays?: number;
  /**
   * The fewest days of backups this database may keep (1–35): the owner's floor under
   * `backupRetentionDays`, enforced at synth and on the stack's Terraform variable, so a `TF_VAR_`
   * override cannot drop a system of record below it. A throwaway environment lowers it to 1.
   * @default 7
   */
  readonly minimumBackupRetentionDays?: number;
  /**
   * Daily UTC backup window, "hh:mm-hh:mm", at least 30 minutes, not overlapping the maintenance window.
   * @default "03:00-04:00"
   */
  readonly preferredBackupWindow?: string;
  /**
   * Weekly UTC maintenance window, "ddd:hh:mm-ddd:hh:mm".
   * @default "sun:04:30-sun:05:30"
   */
  readonly preferredMaintenanceWindow?: string;
  /**
   * Refuse to lose the data by accident: AWS deletion protection on the instance, Terraform
   * `prevent_destroy` on the instance, its KMS key, the database and the schema, and a schema that
   * is never dropped with its tables. Off (dev), a destroy removes everything, tables included.
   * @default true
   */
  readonly deletionProtection?: boolean;
  /**
   * Delete without a final snapshot. Otherwise the final snapshot is named `${identifier}-final-snapshot`.
   * @default false
   */
  readonly skipFinalSnapshot?: boolean;
  /**
   * The analytics database, created by the postgresql provider and owned by pulse_analytics_owner.
   * @default "pulse_analytics"
   */
  readonly databaseName?: string;
  /**
   * The RDS master user. Its password is generated and rotated by RDS in Secrets Manager.
   * @default "pulse_admin"
   */
  readonly masterUsername?: string;
  /**
   * The port PostgreSQL listens on.
   * @default 5432
   */
  readonly port?: number;
  /**
   * Turn on Performance Insights (encrypted with the database's KMS key).
   * @default true
   */
  readonly performanceInsights?: boolean;
  /**
   * Days Performance Insights keeps: 7 (free), a multiple of 31 up to 713, or 731.
   * @default 7
   */
  readonly performanceInsightsRetentionDays?: number;
  /**
   * CloudWatch Database Insights mode; "advanced" needs 465 days of Performance Insights.
   * @default "standard"
   */
  readonly databaseInsightsMode?: DatabaseInsightsMode;
  /**
   * Enhanced Monitoring interval in seconds (0, 1, 5, 10, 15, 30 or 60); 0 turns it off. A
   * monitoring role is created when it is on.
   * @default 0
   */
  readonly monitoringIntervalSeconds?: number;
  /**
   * The certificate authority of the server certificate.
   * @default "rds-ca-rsa2048-g1"
   */
  readonly caCertIdentifier?: string;
  /**
   * A customer-managed KMS key (ARN) for storage, the master secret, the login-role secrets,
   * Performance Insights and the events topic (its policy must then let events.rds.amazonaws.com and
   * cloudwatch.amazonaws.com use it: kms:GenerateDataKey*, kms:Decrypt).
   * @default undefined (the construct creates a key with rotation on)
   */
  readonly kmsKeyArn?: string;
  /**
   * Read replicas for analytics reads (dashboards, analysts: the readonly role's URL points at the
   * first one). Each is encrypted with the same key, in the same subnets and security groups, with its
   * own parameter group of the same family (the primary's settings plus `hot_standby_feedback`, so a
   * long analytics query is not cancelled by replication), and the primary's monitoring.
   * @default undefined (none)
   */
  readonly readReplicas?: ReadReplicaProps;
  /**
   * Send the RDS events of the instance and its read replicas (availability, failover, failure, low
   * storage, maintenance, configuration change, notification, recovery, read replica) to an SNS topic
   * encrypted with the key, which RDS may publish to; subscribe people or a chat tool to it.
   * @default true
   */
  readonly eventNotifications?: boolean;
  /**
   * CloudWatch alarms on the primary (CPU, freeable memory, free storage, connections, read and write
   * latency, disk queue depth, transaction ids) and each replica (CPU, memory, storage, replica lag),
   * with thresholds derived from the class, storage and IOPS, notifying the events topic.
   * @default true
   */
  readonly alarms?: boolean;
  /**
   * An existing SNS topic for the events and alarms, instead of the one the construct creates. Its policy must let
   * events.rds.amazonaws.com and cloudwatch.amazonaws.com publish, and its KMS key (if any) let them encrypt.
   * @default undefined (the construct creates `${identifier}-events`)
   */
  readonly notificationTopicArn?: string;
  /**
   * Security groups the instance joins besides its own (bring your own: a shared "databases" group,
   * one an organisation's policy requires). Their rules are theirs; the construct's group keeps its own.
   * @default []
   */
  readonly additionalSecurityGroupIds?: readonly string[];
  /**
   * An existing IAM role for Enhanced Monitoring, instead of the one the construct creates (its trust
   * policy must allow monitoring.rds.amazonaws.com). Used only when monitoringIntervalSeconds > 0.
   * @default undefined (the construct creates the role)
   */
  readonly monitoringRoleArn?: string;
  /**
   * Days the CloudWatch log groups of the exported postgresql and upgrade logs keep their events.
   * @default 30
   */
  readonly logRetentionDays?: number;
  /**
   * Statements running at least this long are logged (log_min_duration_statement); -1 logs none.
   * @default 1000
   */
  readonly slowStatementThresholdMs?: number;
  /**
   * PostgreSQL parameters set in the parameter group, over the construct's own (`rds.force_ssl` on,
   * connection, lock-wait and slow-statement logging), e.g. `{ "rds.logical_replication": { value: "1",
   * applyMethod: "pending-reboot" } }` or `{ work_mem: "16384" }`. A static parameter must say
   * `applyMethod: "pending-reboot"` (RDS refuses to apply it immediately) and takes effect at the next
   * reboot. `rds.force_ssl` cannot be turned off; the slow-statement threshold is `slowStatementThresholdMs`.
   * Give the apply method RDS reports for the parameter: the aws provider compares it, and a mismatch
   * shows as a change in every plan (its docs, "Problematic plan changes").
   * @default {}
   */
  readonly parameters?: Readonly<Record<string, string | DatabaseParameter>>;
  /**
   * Apply modifications at once instead of in the next maintenance window. Until the window, every
   * plan shows a deferred change again (RDS reports the old value).
   * @default false
   */
  readonly applyImmediately?: boolean;
  /**
   * Allow a change of `engineMajorVersion` to upgrade the instance. Turn on only for the upgrade,
   * with `applyImmediately`: a deferred upgrade keeps the old parameter group attached, and every
   * apply until the window fails deleting it.
   * @default false
   */
  readonly allowMajorVersionUpgrade?: boolean;
  /**
   * IAM roles of the account (names) that administer the created KMS key (describe, rotate, tag,
   * change its policy, schedule its deletion) and use it through RDS and Secrets Manager: the
   * deploying role. Named in the key policy itself, because IAM permissions conditioned on a new key's
   * tags take up to five minutes to apply. The account root stays in the policy, so IAM policies keep
   * working too. Each role must exist when the key is created (KMS refuses unknown principals).
   * @default [] (the account's IAM policies alone)
   */
  readonly kmsKeyAdministratorRoleNames?: string[];
  /**
   * IAM roles of the account (names) that read the secrets encrypted with the created KMS key
   * (kms:Decrypt through Secrets Manager) and describe the key: the plan role, which reads the master
   * secret and the login-role secrets on every refresh.
   * @default []
   */
  readonly kmsKeyUserRoleNames?: string[];
  /**
   * Login roles that sign in with RDS IAM tokens instead of a password (read by PulseAnalyticsDatabase).
   * Each is granted `rds_iam`, after which RDS accepts only tokens for it (one method per user), so it
   * gets no password and no secret; instead a managed IAM policy allows `rds-db:connect` as that role,
   * for the backend's IAM role to attach (`grantConnect`, or the stack output). Nothing to rotate.
   * @default [] (every login role signs in with the password in its secret)
   */
  readonly iamAuthenticatedRoles?: readonly LoginRoleKey[];
  /**
   * How many times each password login role's password has been rotated (read by
   * PulseAnalyticsDatabase). To rotate one, raise its number by one and deploy: its inactive password
   * slot gets a new password and becomes the one its secret names, while the slot clients used until
   * then keeps its password until the next rotation, so no connection fails (README, "Rotating
   * passwords"). Raise by one per rotation: two at once also replace the password still in use.
   * @default {} (0 for every login role: slot a active)
   */
  readonly passwordRotations?: Readonly<Partial<Record<LoginRoleKey, number>>>;
  /**
   * Days a deleted login-role secret can be restored: 0 or 7–30.
   * @default 7
   */
  readonly secretRecoveryWindowDays?: number;
  /**
   * Host the postgresql provider connects to, e.g. "localhost" through an SSM port-forwarding tunnel.
   * @default the instance address
   */
  readonly adminHost?: string;
  /**
   * Port the postgresql provider connects to, e.g. the local end of a tunnel.
   * @default the instance port
   */
  readonly adminPort?: number;
  /**
   * Tags for every resource the construct creates, besides its own `component: analytics-postgres`.
   * Tags for a whole stack (project, environment) belong on its aws provider's `defaultTags`: the
   * provider merges them into every create request (under these).
   * @default {}
   */
  readonly tags?: Record<string, string>;
}

/** The read replicas of the instance. */
export interface ReadReplicaProps {
  /** How many (0–15, RDS's limit per source). Named `${identifier}-replica-1`, `-2`, … */
  readonly count: number;
  /**
   * Their instance class.
   * @default the primary's `instanceClass`
   */
  readonly instanceClass?: string;
  /**
   * Give each replica a standby in a second zone.
   * @default false
   */
  readonly multiAz?: boolean;
}

/** One parameter of the DB parameter group, with how RDS applies a change of it. */
export interface DatabaseParameter {
  readonly value: string;
  /** "pending-reboot" for a static parameter (it takes effect at the next reboot). @default "immediate" */
  readonly applyMethod?: "immediate" | "pending-reboot";
}

export interface PulseAnalyticsPostgresProps extends PulseAnalyticsPostgresSettings, PulseAnalyticsNetworkProps {}

type OptionalKeys =
  | "iops"
  | "storageThroughputMibps"
  | "kmsKeyArn"
  | "adminHost"
  | "adminPort"
  | "engineVersion"
  | "monitoringRoleArn"
  | "subnetIds"
  | "dbSubnetGroupName"
  | "readReplicas"
  | "notificationTopicArn";

/** Props with every default filled in. */
export type ResolvedPulseAnalyticsPostgresProps = Required<Omit<PulseAnalyticsPostgresProps, OptionalKeys>> &
  Pick<PulseAnalyticsPostgresProps, OptionalKeys>;

/** The defaults: safe (protected, backed up, private) and small. Environment configs size up from here. */
export function withDefaults(props: PulseAnalyticsPostgresProps): ResolvedPulseAnalyticsPostgresProps {
  return {
    engineMajorVersion: 17,
    instanceClass: "db.t4g.micro",
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 100,
    multiAz: false,
    backupRetentionDays: 7,
    minimumBackupRetentionDays: 7,
    preferredBackupWindow: "03:00-04:00",
    preferredMaintenanceWindow: "sun:04:30-sun:05:30",
    deletionProtection: true,
    skipFinalSnapshot: false,
    databaseName: DEFAULT_DATABASE_NAME,
    masterUsername: "pulse_admin",
    port: 5432,
    performanceInsights: true,
    performanceInsightsRetentionDays: 7,
    databaseInsightsMode: "standard",
    monitoringIntervalSeconds: 0,
    caCertIdentifier: "rds-ca-rsa2048-g1",
    logRetentionDays: 30,
    slowStatementThresholdMs: 1000,
    parameters: {},
    additionalSecurityGroupIds: [],
    applyImmediately: false,
    allowMajorVersionUpgrade: false,
    secretRecoveryWindowDays: 7,
    iamAuthenticatedRoles: [],
    passwordRotations: {},
    eventNotifications: true,
    alarms: true,
    kmsKeyAdministratorRoleNames: [],
    kmsKeyUserRoleNames: [],
    allowedSecurityGroupIds: [],
    allowedCidrBlocks: [],
    tags: {},
    ...withoutUndefined(props),
  };
}

/** `{ ...defaults, ...props }` must not let an explicit `undefined` erase a default. */
function withoutUndefined<T extends object>(value: T): T {
  return Object.fromEntries(Object.entries(value).filter(([, v]) => v !== undefined)) as T;
}

/** The tags every resource of the constructs carries: the caller's, and the component. */
export function constructTags(p: Pick<ResolvedPulseAnalyticsPostgresProps, "tags">): Record<string, string> {
  return { ...p.tags, component: "analytics-postgres" };
}

/**
 * Checks every literal prop against its rule and throws one InvalidInputError naming the prop, the
 * bad value and what is allowed. Values only known at plan time (tokens, such as Terraform
 * variables) are skipped here: the stack's variable validation blocks hold them to the same rules.
 */
export function validatePulseAnalyticsPostgresProps(props: PulseAnalyticsPostgresProps, where = "PulseAnalyticsPostgres"): void {
  validatePulseAnalyticsPostgresSettings(props, where);
  const p = withDefaults(props);
  const check = checker(where);
  check("vpcId", rules.vpcIdRule, p.vpcId);
  if (!rules.oneSubnetSourceRule.isValid(p.subnetIds, p.dbSubnetGroupName)) {
    // Checked whether or not either is set (the checker skips an unset first value).
    throw new InvalidInputError(`${where}: ${rules.describeViolation("subnetIds", p.subnetIds, rules.oneSubnetSourceRule.allowed())}`);
  }
  check("subnetIds", rules.subnetIdsRule, p.subnetIds as string[]);
  check("dbSubnetGroupName", rules.dbSubnetGroupNameRule, p.dbSubnetGroupName as string);
  check("allowedSecurityGroupIds", rules.allowedSecurityGroupIdsRule, p.allowedSecurityGroupIds);
  check("allowedCidrBlocks", rules.allowedCidrBlocksRule, p.allowedCidrBlocks);
  check("allowedSecurityGroupIds", rules.someIngressRule, p.allowedSecurityGroupIds, p.allowedCidrBlocks);
}

/** The same checks for every prop but the network, which the database level does not use. */
export function validatePulseAnalyticsPostgresSettings(props: PulseAnalyticsPostgresSettings, where = "PulseAnalyticsPostgres"): void {
  if (typeof props.identifier !== "string") {
    // Required, but a JavaScript caller (or a config read from a file) can leave it out.
    throw new InvalidInputError(`${where}: ${rules.describeViolation("identifier", props.identifier, rules.identifierRule.allowed())}`);
  }
  const p = withDefaults(props as PulseAnalyticsPostgresProps);
  const check = checker(where);

  check("identifier", rules.identifierRule, p.identifier);
  check("engineMajorVersion", rules.engineMajorVersionRule, p.engineMajorVersion);
  check("engineVersion", rules.engineVersionRule, p.engineVersion as string, p.engineMajorVersion);
  check("instanceClass", rules.instanceClassRule, p.instanceClass);
  check("allocatedStorageGb", rules.allocatedStorageRule, p.allocatedStorageGb);
  check("maxAllocatedStorageGb", rules.maxAllocatedStorageRule, p.maxAllocatedStorageGb, p.allocatedStorageGb);
  check("iops", rules.iopsRule, p.iops as number, p.allocatedStorageGb);
  check("storageThroughputMibps", rules.storageThroughputRule, p.storageThroughputMibps as number, p.iops);
  check("allocatedStorageGb", rules.provisionedStorageRule, p.allocatedStorageGb, p.iops, p.storageThroughputMibps);
  check("minimumBackupRetentionDays", rules.minimumBackupRetentionRule, p.minimumBackupRetentionDays);
  check("backupRetentionDays", rules.backupRetentionRule, p.backupRetentionDays, p.minimumBackupRetentionDays);
  check("preferredBackupWindow", rules.backupWindowRule, p.preferredBackupWindow);
  check("preferredMaintenanceWindow", rules.maintenanceWindowRule, p.preferredMaintenanceWindow);
  check("preferredBackupWindow", rules.windowsApartRule, p.preferredBackupWindow, p.preferredMaintenanceWindow);
  check("databaseName", rules.databaseNameRule, p.databaseName);
  check("masterUsername", rules.masterUsernameRule, p.masterUsername);
  check("port", rules.portRule, p.port);
  check("performanceInsightsRetentionDays", rules.performanceInsightsRetentionRule, p.performanceInsightsRetentionDays);
  check("databaseInsightsMode", rules.databaseInsightsModeRule, p.databaseInsightsMode, p.performanceInsights, p.performanceInsightsRetentionDays);
  check("monitoringIntervalSeconds", rules.monitoringIntervalRule, p.monitoringIntervalSeconds);
  check("caCertIdentifier", rules.caCertIdentifierRule, p.caCertIdentifier);
  check("kmsKeyArn", rules.kmsKeyArnRule, p.kmsKeyArn as string);
  check("additionalSecurityGroupIds", rules.allowedSecurityGroupIdsRule, p.additionalSecurityGroupIds);
  check("monitoringRoleArn", rules.iamRoleArnRule, p.monitoringRoleArn as string);
  check("notificationTopicArn", rules.snsTopicArnRule, p.notificationTopicArn as string);
  if (p.alarms) {
    // The memory alarms need the class's memory; a class known only at plan time is sized by Terraform.
    check("instanceClass", rules.alarmSizedClassRule, p.instanceClass);
    if (p.readReplicas?.instanceClass !== undefined) check("readReplicas.instanceClass", rules.alarmSizedClassRule, p.readReplicas.instanceClass);
  }
  check("logRetentionDays", rules.logRetentionRule, p.logRetentionDays);
  check("slowStatementThresholdMs", rules.slowStatementThresholdRule, p.slowStatementThresholdMs);
  for (const [name, parameter] of Object.entries(p.parameters)) {
    const { value, applyMethod } = typeof parameter === "string" ? { value: parameter, applyMethod: "immediate" } : parameter;
    check(`parameters["${name}"]`, rules.parameterNameRule, name);
    check(`parameters["${name}"]`, rules.parameterValueRule, value, name);
    check(`parameters["${name}"].applyMethod`, rules.parameterApplyMethodRule, applyMethod);
  }
  check("allowMajorVersionUpgrade", rules.majorUpgradeAppliedImmediatelyRule, p.allowMajorVersionUpgrade, p.applyImmediately);
  check("secretRecoveryWindowDays", rules.secretRecoveryWindowRule, p.secretRecoveryWindowDays);
  check("iamAuthenticatedRoles", iamAuthenticatedRolesRule, p.iamAuthenticatedRoles);
  for (const [key, rotations] of Object.entries(p.passwordRotations)) {
    check(`passwordRotations.${key}`, passwordRotationsKeyRule, key, rotations, p.iamAuthenticatedRoles);
    check(`passwordRotations.${key}`, rules.passwordRotationsRule, rotations);
  }
  if (p.readReplicas !== undefined) {
    check("readReplicas.count", rules.readReplicaCountRule, p.readReplicas.count);
    check("readReplicas.instanceClass", rules.instanceClassRule, p.readReplicas.instanceClass as string);
    const replicaClass = p.readReplicas.instanceClass as string;
    if (!Token.isUnresolved(p.instanceClass)) {
      check(
        "readReplicas.instanceClass",
        rules.replicaClassRule,
        replicaClass,
        p.instanceClass,
        classMemoryGib(replicaClass ?? ""),
        classMemoryGib(p.instanceClass),
      );
    }
  }
  check("adminPort", rules.portRangeRule, p.adminPort as number);
  check("kmsKeyAdministratorRoleNames", rules.iamRoleNamesRule, p.kmsKeyAdministratorRoleNames);
  check("kmsKeyUserRoleNames", rules.iamRoleNamesRule, p.kmsKeyUserRoleNames);
}

/** The role model's login roles, each at most once. */
const iamAuthenticatedRolesRule: Rule<[readonly string[]]> = {
  allowed: () => `distinct login roles of the role model: ${LOGIN_ROLE_KEYS.join(", ")}`,
  // A JavaScript caller may pass anything; Array.isArray would widen the readonly list to any[].
  isValid: (keys: unknown) =>
    Array.isArray(keys) && new Set(keys).size === keys.length && keys.every((k: unknown) => (LOGIN_ROLE_KEYS as readonly unknown[]).includes(k)),
};

/** A login role of the role model; one on IAM tokens has no password, so its count stays 0. */
const passwordRotationsKeyRule: Rule<[string, number, readonly string[]]> = {
  allowed: (_key, _rotations, iamRoles) =>
    `a login role that signs in with a password: ${LOGIN_ROLE_KEYS.filter((k) => !(iamRoles ?? []).includes(k)).join(", ")} (a role on IAM tokens has no password to rotate: leave it out or at 0)`,
  isValid: (key, rotations, iamRoles) => (LOGIN_ROLE_KEYS as readonly string[]).includes(key) && (rotations === 0 || !iamRoles.includes(key)),
};

/** A check of one rule that throws the one-line message; unset optional props and tokens pass. */
function checker(where: string) {
  return <A extends unknown[]>(field: string, rule: Rule<A>, ...values: A): void => {
    // An unset optional prop has nothing to check; a token is checked by Terraform at plan time.
    if (values[0] === undefined || values.some((v) => Token.isUnresolved(v))) return;
    if (!rule.isValid(...values)) {
      throw new InvalidInputError(`${where}: ${rules.describeViolation(field, values[0], rule.allowed(...values))}`);
    }
  };
}
