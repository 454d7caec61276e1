// PulseAnalyticsPostgres: the RDS PostgreSQL instance that is the PULSE analytics system of record,
// with its KMS key, parameter group, network, RDS-managed master secret, monitoring and log groups.
// The database, roles and grants inside it are PulseAnalyticsDatabase's, configured from this
// construct's `connection` (in another stack: the same facts read from this stack's outputs).

import { Fn, ITerraformDependable, TerraformIterator, TerraformLocal, Token } from "cdktf";
import { Construct } from "constructs";
import { CloudwatchLogGroup } from "@cdktf/provider-aws/lib/cloudwatch-log-group";
import { CloudwatchMetricAlarm } from "@cdktf/provider-aws/lib/cloudwatch-metric-alarm";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbEventSubscription } from "@cdktf/provider-aws/lib/db-event-subscription";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { DbSubnetGroup } from "@cdktf/provider-aws/lib/db-subnet-group";
import { IamRole } from "@cdktf/provider-aws/lib/iam-role";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
import { KmsAlias } from "@cdktf/provider-aws/lib/kms-alias";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { SecurityGroup } from "@cdktf/provider-aws/lib/security-group";
import { SnsTopic } from "@cdktf/provider-aws/lib/sns-topic";
import { SnsTopicPolicy } from "@cdktf/provider-aws/lib/sns-topic-policy";
import { VpcSecurityGroupIngressRule } from "@cdktf/provider-aws/lib/vpc-security-group-ingress-rule";
import * as rules from "../config/rules";
import { InvalidInputError } from "../config/rules";
import { AlarmSpec, classMemoryBytes, primaryAlarms, replicaAlarms } from "./alarms";
import { kmsKeyPolicy } from "./kms-key-policy";
import { claimIdentifier } from "./one-per-identifier";
import {
  DatabaseParameter,
  PulseAnalyticsPostgresProps,
  ResolvedPulseAnalyticsPostgresProps,
  constructTags,
  validatePulseAnalyticsPostgresProps,
  withDefaults,
} from "./pulse-analytics-postgres-props";

/**
 * The RDS event categories (source type db-instance) an operator acts on: the instance is down or
 * failed over, runs out of storage, is under maintenance, changed, or RDS has something to say.
 */
const RDS_EVENT_CATEGORIES = [
  "availability",
  "failover",
  "failure",
  "low storage",
  "maintenance",
  "configuration change",
  "notification",
  "recovery",
];

/** The log types RDS for PostgreSQL can export to CloudWatch Logs. */
const EXPORTED_LOG_TYPES = ["postgresql", "upgrade"] as const;

/**
 * How long Terraform waits on the instance: below the CI roles' 2-hour sessions, so a wait that
 * cannot end (a storage change within 6 hours of the last, which RDS refuses and the provider
 * retries for the whole update timeout: internal/service/rds/instance.go, dbInstanceModify) fails
 * with RDS's message while the credentials still hold, instead of an expired-token error halfway.
 * The provider's defaults are 50 (create), 80 (update) and 60 (delete) minutes. Creating a Multi-AZ
 * instance and a class change with a failover fit well inside an hour.
 */
export const DB_INSTANCE_TIMEOUTS = { create: "60m", update: "60m", delete: "60m" } as const;

/** What the database level needs of the instance: this construct's attributes, or its stack's outputs. */
export interface PulseAnalyticsInstanceConnection {
  /** DNS name of the instance, without the port. */
  readonly address: string;
  /** The port PostgreSQL listens on. */
  readonly port: number;
  /** The RDS master user: CREATEROLE and CREATEDB, not a superuser. */
  readonly masterUsername: string;
  /** ARN of the RDS-managed secret that holds the master password. */
  readonly masterSecretArn: string;
  /** The KMS key that encrypts the login-role secrets. */
  readonly kmsKeyArn: string;
  /** The DbiResourceId ("db-…") of the primary, then of each read replica: RDS IAM authentication names an instance by it. */
  readonly resourceIds: string[];
}

export class PulseAnalyticsPostgres extends Construct {
  /** The RDS instance. */
  public readonly instance: DbInstance;
  /** DNS name of the instance, without the port. */
  public readonly address: string;
  /** The port PostgreSQL listens on. */
  public readonly port: number;
  /** `address:port`. */
  public readonly endpoint: string;
  /** ARN of the RDS-managed secret that holds the master user's password. */
  public readonly masterSecretArn: string;
  /** Everything PulseAnalyticsDatabase needs to configure the database level of this instance. */
  public readonly connection: PulseAnalyticsInstanceConnection;
  /** The database's security group: add rules to it to admit more clients. */
  public readonly securityGroupId: string;
  /** The KMS key that encrypts storage, secrets and Performance Insights. */
  public readonly kmsKeyArn: string;
  /** The SNS topic the instances' RDS events go to (undefined with `eventNotifications: false`). */
  public readonly notificationTopicArn?: string;
  /** The read replicas, in order (empty without `readReplicas`). */
  public readonly readReplicas: DbInstance[];
  /** Where read-only clients connect: the first read replica's address, or the primary's when there is none. */
  public readonly readerAddress: string;

  private partitionData?: DataAwsPartition;
  private accountData?: DataAwsCallerIdentity;
  private regionData?: DataAwsRegion;
  private readonly databasePort: number;
  private readonly tags: Record<string, string>;

  constructor(scope: Construct, id: string, props: PulseAnalyticsPostgresProps) {
    super(scope, id);
    validatePulseAnalyticsPostgresProps(props, `PulseAnalyticsPostgres ${this.node.path}`);
    const p = withDefaults(props);
    claimIdentifier(this, "PulseAnalyticsPostgres", p.identifier);
    const tags = constructTags(p);

    this.kmsKeyArn = p.kmsKeyArn ?? this.createKmsKey(p, tags);
    const parameterGroup = this.createParameterGroup(p, tags);
    const subnetGroupName =
      p.dbSubnetGroupName ??
      new DbSubnetGroup(this, "subnet-group", {
        name: p.identifier,
        description: `PULSE Analytics Postgres ${p.identifier}: subnets`,
        // Validation guarantees subnetIds when no group is brought.
        subnetIds: p.subnetIds!,
        tags,
      }).name;
    const securityGroup = this.createSecurityGroup(p, tags);
    const logGroups = this.createLogGroups("log-group", p.identifier, p.logRetentionDays, tags);
    const monitoring = p.monitoringIntervalSeconds > 0 && p.monitoringRoleArn === undefined ? this.createMonitoringRole(p, tags) : undefined;
    const monitoringRoleArn = p.monitoringIntervalSeconds > 0 ? (p.monitoringRoleArn ?? monitoring?.role.arn) : undefined;

    this.instance = new DbInstance(this, "instance", {
      identifier: p.identifier,
      engine: "postgres",
      // The major only: RDS applies minor upgrades itself and Terraform sees no drift (the provider
      // compares engine_version as a prefix of engine_version_actual). A pinned minor is for one upgrade.
      engineVersion: p.engineVersion ?? String(p.engineMajorVersion),
      autoMinorVersionUpgrade: true,
      allowMajorVersionUpgrade: p.allowMajorVersionUpgrade,
      // Without this, RDS silently enrols an end-of-support major in paid Extended Support.
      engineLifecycleSupport: "open-source-rds-extended-support-disabled",
      instanceClass: p.instanceClass,
      caCertIdentifier: p.caCertIdentifier,
      parameterGroupName: parameterGroup.name,

      storageType: "gp3",
      allocatedStorage: p.allocatedStorageGb,
      maxAllocatedStorage: p.maxAllocatedStorageGb,
      iops: p.iops,
      storageThroughput: p.storageThroughputMibps,
      storageEncrypted: true,
      kmsKeyId: this.kmsKeyArn,

      username: p.masterUsername,
      manageMasterUserPassword: true,
      masterUserSecretKmsKeyId: this.kmsKeyArn,
      iamDatabaseAuthenticationEnabled: true,

      port: p.port,
      dbSubnetGroupName: subnetGroupName,
      // A token list (a Terraform variable) cannot be spread: concatenated by Terraform instead.
      vpcSecurityGroupIds: Token.isUnresolved(p.additionalSecurityGroupIds)
        ? Token.asList(Fn.concat([[securityGroup.id], p.additionalSecurityGroupIds]))
        : [securityGroup.id, ...p.additionalSecurityGroupIds],
      publiclyAccessible: false,
      multiAz: p.multiAz,

      backupRetentionPeriod: p.backupRetentionDays,
      backupWindow: p.preferredBackupWindow,
      maintenanceWindow: p.preferredMaintenanceWindow,
      copyTagsToSnapshot: true,
      deletionProtection: p.deletionProtection,
      skipFinalSnapshot: p.skipFinalSnapshot,
      finalSnapshotIdentifier: p.skipFinalSnapshot ? undefined : `${p.identifier}-final-snapshot`,
      applyImmediately: p.applyImmediately,

      ...this.observability(p, monitoringRoleArn),

      tags,
      // RDS checks the monitoring role's permissions when it starts monitoring: attach the policy first.
      dependsOn: [...logGroups, ...(monitoring ? [monitoring.policyAttachment] : [])],
      timeouts: { ...DB_INSTANCE_TIMEOUTS },
      // A plan that would delete or replace a protected instance fails at plan time, not halfway through apply.
      lifecycle: { preventDestroy: p.deletionProtection },
    });

    const replicas = this.createReadReplicas(p, tags, {
      vpcSecurityGroupIds: this.instance.vpcSecurityGroupIds,
      subnetGroupName,
      monitoringRoleArn,
      dependsOn: monitoring ? [monitoring.policyAttachment] : [],
    });
    this.readReplicas = replicas;
    this.notificationTopicArn = p.eventNotifications || p.alarms ? (p.notificationTopicArn ?? this.createNotificationTopic(p, tags)) : undefined;
    if (p.eventNotifications) this.subscribeToEvents(p, tags, replicas, this.notificationTopicArn!);
    if (p.alarms) this.createAlarms(p, tags, replicas, this.notificationTopicArn!);
    // Like an Aurora reader endpoint: a replica when there is one, else the primary.
    this.readerAddress = replicas[0]?.address ?? this.instance.address;

    this.address = this.instance.address;
    this.port = this.instance.port;
    this.endpoint = this.instance.endpoint;
    this.masterSecretArn = this.instance.masterUserSecret.get(0).secretArn;
    this.securityGroupId = securityGroup.id;
    this.databasePort = p.port;
    this.tags = tags;
    this.connection = {
      address: this.address,
      port: this.port,
      masterUsername: this.instance.username,
      masterSecretArn: this.masterSecretArn,
      kmsKeyArn: this.kmsKeyArn,
      resourceIds: [this.instance.resourceId, ...replicas.map((replica) => replica.resourceId)],
    };
  }

  private createKmsKey(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>): string {
    const account = this.accountId();
    const roleArn = (name: string) => `arn:${this.partition()}:iam::${account}:role/${name}`;
    const key = new KmsKey(this, "kms-key", {
      description: `PULSE Analytics Postgres ${p.identifier}: storage, secrets, Performance Insights`,
      enableKeyRotation: true,
      deletionWindowInDays: 30,
      policy: kmsKeyPolicy({
        accountRootArn: `arn:${this.partition()}:iam::${account}:root`,
        region: this.regionName(),
        administratorArns: p.kmsKeyAdministratorRoleNames.map(roleArn),
        userArns: p.kmsKeyUserRoleNames.map(roleArn),
        // The construct's own events topic is encrypted with this key: its publishers encrypt with it.
        topicPublishers:
          p.notificationTopicArn === undefined
            ? [...(p.eventNotifications ? ["events.rds.amazonaws.com"] : []), ...(p.alarms ? ["cloudwatch.amazonaws.com"] : [])]
            : [],
      }),
      tags,
      // Scheduling the key's deletion makes every snapshot encrypted with it unreadable after 30 days.
      lifecycle: { preventDestroy: p.deletionProtection },
    });
    new KmsAlias(this, "kms-alias", { name: `alias/${p.identifier}`, targetKeyId: key.keyId });
    return key.arn;
  }

  /** The account id, read once. */
  private accountId(): string {
    this.accountData ??= new DataAwsCallerIdentity(this, "account");
    return this.accountData.accountId;
  }

  /** The region's name, read once. */
  private regionName(): string {
    this.regionData ??= new DataAwsRegion(this, "region");
    return this.regionData.region;
  }

  /**
   * The SNS topic of the RDS events and alarms, encrypted with the database's key. Its policy lets only
   * this database's instances' RDS events (RDS User Guide, "Granting permissions to publish
   * notifications to an Amazon SNS topic") and CloudWatch alarms publish, from this account.
   */
  private createNotificationTopic(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>): string {
    const topic = new SnsTopic(this, "events-topic", { name: `${p.identifier}-events`, kmsMasterKeyId: this.kmsKeyArn, tags });
    const arn = (service: string, type: string) =>
      `arn:${this.partition()}:${service}:${this.regionName()}:${this.accountId()}:${type}:${p.identifier}*`;
    const publisher = (sid: string, service: string, sourceArns: string[]) => ({
      Sid: sid,
      Effect: "Allow",
      Principal: { Service: service },
      Action: "sns:Publish",
      Resource: topic.arn,
      Condition: { StringEquals: { "aws:SourceAccount": this.accountId() }, ArnLike: { "aws:SourceArn": sourceArns } },
    });
    new SnsTopicPolicy(this, "events-topic-policy", {
      arn: topic.arn,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          ...(p.eventNotifications ? [publisher("RdsEventsOfThisDatabase", "events.rds.amazonaws.com", [arn("rds", "db"), arn("rds", "es")])] : []),
          ...(p.alarms ? [publisher("AlarmsOfThisDatabase", "cloudwatch.amazonaws.com", [arn("cloudwatch", "alarm")])] : []),
        ],
      }),
    });
    return topic.arn;
  }

  /** RDS events of the primary and its replicas, sent to the topic. */
  private subscribeToEvents(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>, replicas: DbInstance[], topicArn: string): void {
    new DbEventSubscription(this, "event-subscription", {
      name: `${p.identifier}-events`,
      snsTopic: topicArn,
      sourceType: "db-instance",
      sourceIds: [this.instance.identifier, ...replicas.map((replica) => replica.identifier)],
      eventCategories: [...RDS_EVENT_CATEGORIES, ...(replicas.length > 0 ? ["read replica"] : [])],
      tags,
    });
  }

  /** The alarms of the primary and of each replica (src/constructs/alarms.ts), notifying the topic when they fire and when they clear. */
  private createAlarms(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>, replicas: DbInstance[], topicArn: string): void {
    // A whole number set in the parameters; a formula (RDS's own default is one) leaves the class's default.
    const maxConnections = parameterValue(p.parameters.max_connections);
    const inputs = {
      allocatedStorageGb: p.allocatedStorageGb,
      iops: p.iops,
      maxConnections: maxConnections !== undefined && /^[0-9]+$/.test(maxConnections) ? Number(maxConnections) : undefined,
    };
    // A class known only at plan time is sized by Terraform once, in a local every threshold refers to
    // (a readable plan, and a synth that does not resolve the expression once per alarm).
    const memoryOf = (instanceClass: string, id: string) =>
      Token.isUnresolved(instanceClass) ? new TerraformLocal(this, id, classMemoryBytes(instanceClass)).asNumber : classMemoryBytes(instanceClass);
    const primaryMemory = memoryOf(p.instanceClass, "instance-class-memory-bytes");
    const replicaClass = p.readReplicas?.instanceClass;
    const replicaMemory = replicaClass === undefined ? primaryMemory : memoryOf(replicaClass, "replica-class-memory-bytes");
    const targets: Array<[string, DbInstance, AlarmSpec[]]> = [
      [p.identifier, this.instance, primaryAlarms({ ...inputs, memoryBytes: primaryMemory })],
      ...replicas.map((replica, index): [string, DbInstance, AlarmSpec[]] => [
        `${p.identifier}-replica-${index + 1}`,
        replica,
        replicaAlarms({ ...inputs, memoryBytes: replicaMemory }),
      ]),
    ];
    for (const [identifier, instance, specs] of targets) {
      for (const spec of specs) {
        new CloudwatchMetricAlarm(this, `alarm-${identifier}-${spec.key}`, {
          alarmName: `${identifier}-${spec.key}`,
          alarmDescription: `PULSE Analytics Postgres ${identifier}: ${spec.metricName} ${spec.comparisonOperator === "GreaterThanThreshold" ? "above" : "below"} ${spec.description}.`,
          namespace: "AWS/RDS",
          metricName: spec.metricName,
          dimensions: { DBInstanceIdentifier: instance.identifier },
          statistic: spec.statistic,
          comparisonOperator: spec.comparisonOperator,
          threshold: spec.threshold,
          period: spec.periodSeconds,
          evaluationPeriods: spec.evaluationPeriods,
          alarmActions: [topicArn],
          okActions: [topicArn],
          tags,
        });
      }
    }
  }

  /** The AWS partition (aws, aws-cn, …), read once. */
  private partition(): string {
    this.partitionData ??= new DataAwsPartition(this, "partition");
    return this.partitionData.partition;
  }

  /**
   * The primary's parameter group, or (`forReplicas`) its replicas': the same settings, and
   * hot_standby_feedback on, so the primary keeps the rows a long analytics query on a replica still
   * reads instead of replication cancelling the query ("canceling statement due to conflict with
   * recovery"), at the price of some bloat on the primary while such a query runs.
   */
  private createParameterGroup(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>, forReplicas = false): DbParameterGroup {
    // PostgreSQL 18 made log_connections a list of aspects; "on" still means these three.
    const logConnections = p.engineMajorVersion >= 18 ? "receipt,authentication,authorization" : "1";
    return new DbParameterGroup(this, forReplicas ? "replica-parameter-group" : "parameter-group", {
      // A prefix, and create-before-destroy, so a major upgrade can bring up the next family's group
      // before the old one is dropped.
      namePrefix: `${p.identifier}-${forReplicas ? "replica-" : ""}postgres${p.engineMajorVersion}-`,
      family: `postgres${p.engineMajorVersion}`,
      description: `PULSE Analytics Postgres ${p.identifier}${forReplicas ? " read replicas" : ""}: TLS only, connection and slow-statement logging`,
      parameter: parameterList(
        {
          "rds.force_ssl": "1",
          log_connections: logConnections,
          log_disconnections: "1",
          log_min_duration_statement: String(p.slowStatementThresholdMs),
          log_lock_waits: "1",
          ...(forReplicas ? { hot_standby_feedback: "1" } : {}),
        },
        p.parameters,
      ),
      lifecycle: { createBeforeDestroy: true },
      tags,
    });
  }

  /** Performance Insights, Database Insights, Enhanced Monitoring and log exports: the same on the primary and its replicas. */
  private observability(p: ResolvedPulseAnalyticsPostgresProps, monitoringRoleArn: string | undefined) {
    return {
      performanceInsightsEnabled: p.performanceInsights,
      performanceInsightsKmsKeyId: p.performanceInsights ? this.kmsKeyArn : undefined,
      performanceInsightsRetentionPeriod: p.performanceInsights ? p.performanceInsightsRetentionDays : undefined,
      databaseInsightsMode: p.databaseInsightsMode,
      monitoringInterval: p.monitoringIntervalSeconds,
      monitoringRoleArn,
      enabledCloudwatchLogsExports: [...EXPORTED_LOG_TYPES],
    };
  }

  /** The exported logs' groups of one instance, created ahead of it so RDS writes into groups with a retention, not never-expiring ones. */
  private createLogGroups(idPrefix: string, identifier: string, retentionInDays: number, tags: Record<string, string>): CloudwatchLogGroup[] {
    return EXPORTED_LOG_TYPES.map(
      (type) => new CloudwatchLogGroup(this, `${idPrefix}-${type}`, { name: `/aws/rds/instance/${identifier}/${type}`, retentionInDays, tags }),
    );
  }

  /**
   * The read replicas (`readReplicas`): same-Region replicas of the primary (replicate_source_db is its
   * identifier), encrypted with the same key, in its subnets and security groups, monitored like it.
   * RDS takes them from the primary's latest snapshot and keeps them by streaming replication; the
   * role model comes with the catalog. A replica has no backups or final snapshot of its own (RDS
   * refuses a final snapshot of a replica) and no deletion protection: it is rebuilt from the primary.
   */
  private createReadReplicas(
    p: ResolvedPulseAnalyticsPostgresProps,
    tags: Record<string, string>,
    shared: { vpcSecurityGroupIds: string[]; subnetGroupName: string; monitoringRoleArn: string | undefined; dependsOn: ITerraformDependable[] },
  ): DbInstance[] {
    const count = p.readReplicas?.count ?? 0;
    if (count === 0) return [];
    const parameterGroup = this.createParameterGroup(p, tags, true);
    return Array.from({ length: count }, (_, index) => {
      const identifier = `${p.identifier}-replica-${index + 1}`;
      const logGroups = this.createLogGroups(`replica-${index + 1}-log-group`, identifier, p.logRetentionDays, tags);
      return new DbInstance(this, `replica-${index + 1}`, {
        identifier,
        replicateSourceDb: this.instance.identifier,
        instanceClass: p.readReplicas?.instanceClass ?? p.instanceClass,
        multiAz: p.readReplicas?.multiAz ?? false,
        autoMinorVersionUpgrade: true,
        caCertIdentifier: p.caCertIdentifier,
        parameterGroupName: parameterGroup.name,
        storageType: "gp3",
        // Storage starts as the primary's; autoscaling keeps the same ceiling, so a replica never runs out first.
        maxAllocatedStorage: p.maxAllocatedStorageGb,
        iops: p.iops,
        storageThroughput: p.storageThroughputMibps,
        // No kms_key_id: a same-Region replica is encrypted with its source's key, and RDS refuses the
        // parameter for it ("don't specify a value", CreateDBInstanceReadReplica, KmsKeyId).
        iamDatabaseAuthenticationEnabled: true,
        port: p.port,
        dbSubnetGroupName: shared.subnetGroupName,
        vpcSecurityGroupIds: shared.vpcSecurityGroupIds,
        publiclyAccessible: false,
        copyTagsToSnapshot: true,
        skipFinalSnapshot: true,
        deletionProtection: false,
        applyImmediately: p.applyImmediately,
        ...this.observability(p, shared.monitoringRoleArn),
        tags,
        dependsOn: [...logGroups, ...shared.dependsOn],
        timeouts: { ...DB_INSTANCE_TIMEOUTS },
      });
    });
  }

  /**
   * Admits PostgreSQL connections from one more source, as an ingress rule on the database's security
   * group: for a client that is not in the props, e.g. a service defined in the same app
   * (`db.allowIngressFrom({ securityGroupId: service.securityGroupId }, { id: "service" })`). The rule's
   * construct id is the source itself, so adding or removing another call never renames it; a source
   * only known at plan time (a token) needs `id`.
   */
  public allowIngressFrom(source: { securityGroupId: string } | { cidrBlock: string }, options: { description?: string; id?: string } = {}): void {
    const isGroup = "securityGroupId" in source;
    const value = isGroup ? source.securityGroupId : source.cidrBlock;
    const literal = !Token.isUnresolved(value);
    const where = `PulseAnalyticsPostgres ${this.node.path}: allowIngressFrom(${literal ? JSON.stringify(source) : "a token"})`;
    if (literal) {
      const rule = isGroup ? rules.allowedSecurityGroupIdsRule : rules.allowedCidrBlocksRule;
      if (!rule.isValid([value])) throw new InvalidInputError(`${where}: allowed is ${rule.allowed()}.`);
    } else if (options.id === undefined) {
      throw new InvalidInputError(`${where}: a source known only at plan time needs an id: allowIngressFrom(source, { id: "…" }).`);
    }
    const id = `ingress-from-${options.id ?? value.replace(/[^A-Za-z0-9-]/g, "-")}`;
    if (this.node.tryFindChild(id)) throw new InvalidInputError(`${where} was already called for this source (${id}): once per source.`);
    // An IPv6 block has ":"; a token CIDR is told apart at plan time, as the props' CIDR rules do.
    const ipv6 = isGroup || !literal ? undefined : value.includes(":");
    const planTimeCidr = (ifIpv6: string | null, ifIpv4: string | null) =>
      Token.asString(Fn.conditional(Fn.strcontains(value, ":"), ifIpv6 ?? Token.nullValue(), ifIpv4 ?? Token.nullValue()));
    new VpcSecurityGroupIngressRule(this, id, {
      securityGroupId: this.securityGroupId,
      description: options.description ?? `PostgreSQL from ${isGroup ? "security group " : ""}${value}`,
      ipProtocol: "tcp",
      fromPort: this.databasePort,
      toPort: this.databasePort,
      referencedSecurityGroupId: isGroup ? value : undefined,
      cidrIpv4: isGroup ? undefined : ipv6 === undefined ? planTimeCidr(null, value) : ipv6 ? undefined : value,
      cidrIpv6: isGroup ? undefined : ipv6 === undefined ? planTimeCidr(value, null) : ipv6 ? value : undefined,
      tags: this.tags,
    });
  }

  private createSecurityGroup(p: ResolvedPulseAnalyticsPostgresProps, tags: Record<string, string>): SecurityGroup {
    // No inline rules and no egress rule: Terraform removes AWS's default allow-all egress, and a
    // database needs none. Ingress rules are separate resources so each is described and diffed alone.
    const group = new SecurityGroup(this, "security-group", {
      name: `${p.identifier}-db`,
      description: `PULSE Analytics Postgres ${p.identifier}: PostgreSQL from the admitted sources only`,
      vpcId: p.vpcId,
      tags: { ...tags, Name: `${p.identifier}-db` },
    });
    // for_each keeps one code path whether the lists are literals or Terraform variables.
    const fromGroups = TerraformIterator.fromList(p.allowedSecurityGroupIds);
    new VpcSecurityGroupIngressRule(this, "ingress-from-security-groups", {
      forEach: fromGroups,
      securityGroupId: group.id,
      description: `PostgreSQL from security group ${fromGroups.value}`,
      ipProtocol: "tcp",
      fromPort: p.port,
      toPort: p.port,
      referencedSecurityGroupId: Token.asString(fromGroups.value),
      tags,
    });
    const fromCidrs = TerraformIterator.fromList(p.allowedCidrBlocks);
    new VpcSecurityGroupIngressRule(this, "ingress-from-cidr-blocks", {
      forEach: fromCidrs,
      securityGroupId: group.id,
      description: `PostgreSQL from ${fromCidrs.value}`,
      ipProtocol: "tcp",
      fromPort: p.port,
      toPort: p.port,
      cidrIpv4: Token.asString(Fn.conditional(Fn.strcontains(Token.asString(fromCidrs.value), ":"), Token.nullValue(), fromCidrs.value)),
      cidrIpv6: Token.asString(Fn.conditional(Fn.strcontains(Token.asString(fromCidrs.value), ":"), fromCidrs.value, Token.nullValue())),
      tags,
    });
    return group;
  }

  private createMonitoringRole(
    p: ResolvedPulseAnalyticsPostgresProps,
    tags: Record<string, string>,
  ): { role: IamRole; policyAttachment: IamRolePolicyAttachment } {
    const monitoringRole = new IamRole(this, "monitoring-role", {
      name: `${p.identifier}-rds-monitoring`,
      description: `Lets RDS Enhanced Monitoring publish OS metrics of ${p.identifier}`,
      assumeRolePolicy: JSON.stringify({
        Version: "2012-10-17",
        Statement: [{ Effect: "Allow", Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" }],
      }),
      tags,
    });
    const policyAttachment = new IamRolePolicyAttachment(this, "monitoring-role-policy", {
      role: monitoringRole.name,
      policyArn: `arn:${this.partition()}:iam::aws:policy/service-role/AmazonRDSEnhancedMonitoringRole`,
    });
    return { role: monitoringRole, policyAttachment };
  }
}

/**
 * The construct's parameters with the caller's over them (a name given twice keeps the caller's
 * value): the construct's first, in their order, then the caller's others by name, so the plan is stable.
 */
function parameterList(
  own: Record<string, string>,
  given: Readonly<Record<string, string | DatabaseParameter>>,
): Array<{ name: string; value: string; applyMethod?: string }> {
  const entry = (name: string, parameter: string | DatabaseParameter) =>
    typeof parameter === "string" || parameter.applyMethod === undefined
      ? { name, value: typeof parameter === "string" ? parameter : parameter.value }
      : { name, value: parameter.value, applyMethod: parameter.applyMethod };
  const ownNames = Object.keys(own);
  return [
    ...ownNames.map((name) => entry(name, given[name] ?? own[name]!)),
    ...Object.keys(given)
      .filter((name) => !ownNames.includes(name))
      .sort()
      .map((name) => entry(name, given[name]!)),
  ];
}

/** A parameter's value as given (a plain string, or `{ value, applyMethod }`), or undefined when not set. */
function parameterValue(parameter: string | DatabaseParameter | undefined): string | undefined {
  return typeof parameter === "object" ? parameter.value : parameter;
}
