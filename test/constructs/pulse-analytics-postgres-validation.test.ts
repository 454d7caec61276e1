// Every validated prop of PulseAnalyticsPostgres: a bad value is refused when the construct is
// created, with one message naming the prop, the value and what is allowed; each boundary passes.

import { PulseAnalyticsPostgresProps } from "../../src";
import { environments } from "../../stacks";
import { stackWithConstruct } from "../support/synth";

type Props = Partial<PulseAnalyticsPostgresProps>;

/** [the prop named in the message, props to set, a phrase the "Allowed:" part must contain] */
const REFUSED: Array<[string, Props, string]> = [
  ["identifier", { identifier: undefined }, "lower-case letters"],
  ["identifier", { identifier: "Pulse-analytics" }, "lower-case letters"],
  ["identifier", { identifier: "1pulse" }, "starting with a letter"],
  ["identifier", { identifier: "pulse--analytics" }, "single hyphens"],
  ["identifier", { identifier: "pulse-" }, "not ending with a hyphen"],
  ["identifier", { identifier: "a".repeat(49) }, "1 to 48"],
  ["engineMajorVersion", { engineMajorVersion: 15 as never }, "one of 16, 17, 18"],
  ["engineMajorVersion", { engineMajorVersion: 19 as never }, "one of 16, 17, 18"],
  ["instanceClass", { instanceClass: "db.t4g.nano" }, "RDS for PostgreSQL class"],
  ["instanceClass", { instanceClass: "db.r6i.metal" }, "not metal, while alarms are on"],
  ["readReplicas.instanceClass", { readReplicas: { count: 1, instanceClass: "db.r6i.metal" } }, "not metal, while alarms are on"],
  ["instanceClass", { instanceClass: "t4g.micro" }, "db.<family>.<size>"],
  ["instanceClass", { instanceClass: "db.r7g.medium" }, "large…NNxlarge"],
  ["instanceClass", { instanceClass: "db.t2.micro" }, "RDS for PostgreSQL class"],
  ["allocatedStorageGb", { allocatedStorageGb: 19 }, "from 20 to 65536"],
  ["allocatedStorageGb", { allocatedStorageGb: 65537 }, "from 20 to 65536"],
  ["allocatedStorageGb", { allocatedStorageGb: 20.5 }, "whole number"],
  ["maxAllocatedStorageGb", { allocatedStorageGb: 100, maxAllocatedStorageGb: 109 }, "at least 10% above allocatedStorageGb (100, so at least 110)"],
  ["maxAllocatedStorageGb", { allocatedStorageGb: 20, maxAllocatedStorageGb: 20 }, "so at least 22"],
  ["maxAllocatedStorageGb", { allocatedStorageGb: 60000, maxAllocatedStorageGb: 65537 }, "at most 65536"],
  ["iops", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 11999 }, "from 12000 to 64000"],
  ["iops", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 64001 }, "from 12000 to 64000"],
  ["iops", { allocatedStorageGb: 399, maxAllocatedStorageGb: 1000, iops: 12000 }, "only with allocatedStorageGb >= 400"],
  ["storageThroughputMibps", { storageThroughputMibps: 500 }, "set iops together with it"],
  // hashicorp/terraform-provider-aws#28382: from 400 GiB both are stated in the same change.
  ["allocatedStorageGb", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000 }, "from 400 GiB with iops (12000–64000) and storageThroughputMibps"],
  ["allocatedStorageGb", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000 }, "the stale 3000 IOPS"],
  ["allowMajorVersionUpgrade", { allowMajorVersionUpgrade: true }, "true together with applyImmediately: true"],
  ["engineVersion", { engineMajorVersion: 17, engineVersion: "16.9" }, 'a minor version of engineMajorVersion 17, "17.<minor>"'],
  ["engineVersion", { engineMajorVersion: 17, engineVersion: "17" }, "a minor version of engineMajorVersion 17"],
  [
    "kmsKeyAdministratorRoleNames",
    { kmsKeyAdministratorRoleNames: ["arn:aws:iam::123456789012:role/pulse-analytics-dev-apply"] },
    "a name, not an ARN",
  ],
  ["kmsKeyUserRoleNames", { kmsKeyUserRoleNames: ["a".repeat(65)] }, "1 to 64 letters"],
  [
    "storageThroughputMibps",
    { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 3001 },
    "at most a quarter of iops (12000)",
  ],
  ["storageThroughputMibps", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 499 }, "from 500 to 4000"],
  ["backupRetentionDays", { minimumBackupRetentionDays: 1, backupRetentionDays: 0 }, "from 1 to 35"],
  ["backupRetentionDays", { minimumBackupRetentionDays: 1, backupRetentionDays: 36 }, "from 1 to 35"],
  ["backupRetentionDays", { backupRetentionDays: 6 }, "from 7 to 35 (minimumBackupRetentionDays keeps at least 7 days"],
  ["backupRetentionDays", { minimumBackupRetentionDays: 14, backupRetentionDays: 13 }, "from 14 to 35"],
  ["backupRetentionDays", { backupRetentionDays: 36 }, "from 7 to 35"],
  ["minimumBackupRetentionDays", { minimumBackupRetentionDays: 0 }, "from 1 to 35"],
  ["minimumBackupRetentionDays", { minimumBackupRetentionDays: 36 }, "from 1 to 35"],
  ["minimumBackupRetentionDays", { minimumBackupRetentionDays: 1.5 }, "a whole number of days"],
  ["preferredBackupWindow", { preferredBackupWindow: "3:00-04:00" }, '"hh:mm-hh:mm"'],
  ["preferredBackupWindow", { preferredBackupWindow: "03:00-03:29" }, "at least 30 minutes"],
  ["preferredMaintenanceWindow", { preferredMaintenanceWindow: "sunday:04:30-sunday:05:30" }, '"ddd:hh:mm-ddd:hh:mm"'],
  [
    "preferredBackupWindow",
    { preferredBackupWindow: "04:00-05:00", preferredMaintenanceWindow: "sun:04:30-sun:05:30" },
    "does not overlap preferredMaintenanceWindow (sun:04:30-sun:05:30)",
  ],
  ["preferredBackupWindow", { preferredBackupWindow: "23:30-00:30", preferredMaintenanceWindow: "mon:00:00-mon:01:00" }, "does not overlap"],
  ["preferredBackupWindow", { preferredBackupWindow: "00:00-00:30", preferredMaintenanceWindow: "sun:23:45-mon:00:15" }, "does not overlap"],
  ["databaseName", { databaseName: "PulseAnalytics" }, "lower-case letters"],
  ["databaseName", { databaseName: "1pulse" }, "starting with a letter"],
  ["databaseName", { databaseName: "pulse-analytics" }, "digits and underscores"],
  ["databaseName", { databaseName: "postgres" }, "not postgres, template0, template1, rdsadmin"],
  ["databaseName", { databaseName: "template1" }, "not postgres, template0, template1, rdsadmin"],
  ["databaseName", { databaseName: "select" }, "PostgreSQL reserved word"],
  ["databaseName", { databaseName: "a".repeat(64) }, "1 to 63"],
  ["masterUsername", { masterUsername: "admin" }, "not admin"],
  ["masterUsername", { masterUsername: "rdsadmin" }, "not starting with pg_ or rds"],
  ["masterUsername", { masterUsername: "pg_admin" }, "not starting with pg_ or rds"],
  ["masterUsername", { masterUsername: "pulse_analytics_owner" }, "not a role of the role model"],
  ["masterUsername", { masterUsername: "user" }, "PostgreSQL reserved word"],
  ["masterUsername", { masterUsername: "a".repeat(17) }, "1 to 16"],
  ["port", { port: 1149 }, "from 1150 to 65535"],
  ["port", { port: 65536 }, "from 1150 to 65535"],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 8 }, "7, a multiple of 31 up to 713"],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 30 }, "7, a multiple of 31 up to 713"],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 744 }, "or 731 days"],
  ["databaseInsightsMode", { databaseInsightsMode: "basic" as never }, '"standard", or "advanced"'],
  ["databaseInsightsMode", { databaseInsightsMode: "advanced", performanceInsights: true, performanceInsightsRetentionDays: 434 }, ">= 465"],
  [
    "databaseInsightsMode",
    { databaseInsightsMode: "advanced", performanceInsights: false, performanceInsightsRetentionDays: 465 },
    "with performanceInsights on",
  ],
  ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 2 }, "one of 0, 1, 5, 10, 15, 30, 60"],
  ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 120 }, "one of 0, 1, 5, 10, 15, 30, 60"],
  ["caCertIdentifier", { caCertIdentifier: "rds-ca-2019" }, "rds-ca-rsa2048-g1, rds-ca-rsa4096-g1, rds-ca-ecc384-g1"],
  ["kmsKeyArn", { kmsKeyArn: "alias/pulse" }, "a KMS key ARN"],
  ["kmsKeyArn", { kmsKeyArn: "arn:aws:kms:eu-central-1:123:key/abc" }, "a KMS key ARN"],
  ["logRetentionDays", { logRetentionDays: 0 }, "a CloudWatch Logs retention in days"],
  ["logRetentionDays", { logRetentionDays: 2 }, "a CloudWatch Logs retention in days"],
  ["slowStatementThresholdMs", { slowStatementThresholdMs: -2 }, "or -1 to log no slow statements"],
  ["slowStatementThresholdMs", { slowStatementThresholdMs: 1.5 }, "whole number of milliseconds"],
  ["secretRecoveryWindowDays", { secretRecoveryWindowDays: 6 }, "0 (delete at once) or a whole number of days from 7 to 30"],
  ["monitoringRoleArn", { monitoringRoleArn: "rds-monitoring" }, "an IAM role ARN"],
  ["notificationTopicArn", { notificationTopicArn: "ops-pager" }, "an SNS topic ARN"],
  ["notificationTopicArn", { notificationTopicArn: "arn:aws:sqs:eu-central-1:123456789012:ops" }, "an SNS topic ARN"],
  ["additionalSecurityGroupIds", { additionalSecurityGroupIds: ["sg-1"] }, "distinct security group ids"],
  ["secretRecoveryWindowDays", { secretRecoveryWindowDays: 31 }, "from 7 to 30"],
  ["adminPort", { adminPort: 0 }, "from 1 to 65535"],
  ["adminPort", { adminPort: 65536 }, "from 1 to 65535"],
  ["vpcId", { vpcId: "vpc-123" }, "vpc- followed by 8 or 17 hex digits"],
  ["vpcId", { vpcId: "vpc-0A1B2C3D" }, "vpc- followed by 8 or 17 hex digits"],
  ["readReplicas.count", { readReplicas: { count: 16 } }, "from 0 to 15 (RDS's limit per source instance)"],
  ["readReplicas.count", { readReplicas: { count: 1.5 } }, "a whole number of read replicas"],
  ["readReplicas.instanceClass", { readReplicas: { count: 1, instanceClass: "db.t4g.nano" } }, "RDS for PostgreSQL class"],
  [
    "readReplicas.instanceClass",
    { instanceClass: "db.r7g.large", readReplicas: { count: 1, instanceClass: "db.t4g.medium" } },
    "at least the memory of the primary's (db.r7g.large)",
  ],
  ["subnetIds", { subnetIds: ["subnet-0a1b2c3d"] }, "at least 2 distinct subnet ids"],
  ["subnetIds", { subnetIds: undefined }, "exactly one of subnetIds (the construct creates a DB subnet group on them) and dbSubnetGroupName"],
  ["subnetIds", { subnetIds: ["subnet-0a1b2c3d", "subnet-1a2b3c4d"], dbSubnetGroupName: "platform-private" }, "exactly one of subnetIds"],
  ["dbSubnetGroupName", { subnetIds: undefined, dbSubnetGroupName: "Platform-Private" }, "lower-case letters"],
  ["dbSubnetGroupName", { subnetIds: undefined, dbSubnetGroupName: "default" }, 'not "default"'],
  ["dbSubnetGroupName", { subnetIds: undefined, dbSubnetGroupName: "a".repeat(256) }, "1 to 255"],
  ["subnetIds", { subnetIds: ["subnet-0a1b2c3d", "subnet-0a1b2c3d"] }, "at least 2 distinct subnet ids"],
  ["subnetIds", { subnetIds: ["subnet-0a1b2c3d", "subnet-xyz"] }, "subnet- followed by 8 or 17 hex digits"],
  ["allowedSecurityGroupIds", { allowedSecurityGroupIds: ["sg-123"] }, "sg- followed by 8 or 17 hex digits"],
  ["allowedSecurityGroupIds", { allowedSecurityGroupIds: ["sg-0a1b2c3d", "sg-0a1b2c3d"] }, "distinct security group ids"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["0.0.0.0/0"] }, "never 0.0.0.0/0 or ::/0"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["::/0"] }, "never 0.0.0.0/0 or ::/0"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["10.0.0.0/33"] }, "network addresses in canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["10.0.0.0"] }, "network addresses in canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["300.0.0.0/8"] }, "network addresses in canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["010.0.0.0/8"] }, "network addresses in canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["2001:db8::g/32"] }, "network addresses in canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["10.20.0.1/16"] }, "host bits zero"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["2001:DB8::/32"] }, "lower-case IPv6"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["2001:db8:0:0::/64"] }, "canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["::ffff:10.0.0.0/104"] }, "canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["::ffff:a00:0/104"] }, "canonical form"],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["10.0.0.0/8", "10.0.0.0/8"] }, "distinct"],
  [
    "allowedSecurityGroupIds",
    { allowedSecurityGroupIds: [], allowedCidrBlocks: [] },
    "at least one entry in allowedSecurityGroupIds or allowedCidrBlocks",
  ],
];

/** Values at the edges of what each rule allows. */
const ACCEPTED: Array<[string, Props]> = [
  ["identifier", { identifier: "a" }],
  ["identifier", { identifier: "a".repeat(48) }],
  ["identifier", { identifier: "pulse-analytics-2" }],
  ["engineMajorVersion", { engineMajorVersion: 16 }],
  ["engineMajorVersion", { engineMajorVersion: 18 }],
  ["instanceClass", { instanceClass: "db.t3.micro" }],
  ["instanceClass", { instanceClass: "db.t4g.2xlarge" }],
  ["instanceClass", { instanceClass: "db.m7g.large" }],
  ["instanceClass", { instanceClass: "db.r7g.16xlarge" }],
  ["instanceClass", { instanceClass: "db.r6i.metal", alarms: false }],
  ["allocatedStorageGb", { allocatedStorageGb: 20, maxAllocatedStorageGb: 22 }],
  ["allocatedStorageGb", { allocatedStorageGb: 59578, maxAllocatedStorageGb: 65536, iops: 12000, storageThroughputMibps: 500 }],
  ["allocatedStorageGb", { allocatedStorageGb: 399, maxAllocatedStorageGb: 1000 }],
  ["maxAllocatedStorageGb", { allocatedStorageGb: 100, maxAllocatedStorageGb: 110 }],
  ["iops", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 500 }],
  ["iops", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 64000, storageThroughputMibps: 500 }],
  ["allowMajorVersionUpgrade", { allowMajorVersionUpgrade: true, applyImmediately: true }],
  ["engineVersion", { engineMajorVersion: 17, engineVersion: "17.9", allowMajorVersionUpgrade: true, applyImmediately: true }],
  ["kmsKeyAdministratorRoleNames", { kmsKeyAdministratorRoleNames: ["pulse-analytics-dev-apply", "a".repeat(64)] }],
  ["storageThroughputMibps", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 500 }],
  ["storageThroughputMibps", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 3000 }],
  ["storageThroughputMibps", { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 16000, storageThroughputMibps: 4000 }],
  ["backupRetentionDays", { minimumBackupRetentionDays: 1, backupRetentionDays: 1 }],
  ["backupRetentionDays", { minimumBackupRetentionDays: 1, backupRetentionDays: 35 }],
  ["backupRetentionDays", { backupRetentionDays: 7 }],
  ["backupRetentionDays", { backupRetentionDays: 35 }],
  ["minimumBackupRetentionDays", { minimumBackupRetentionDays: 35, backupRetentionDays: 35 }],
  ["preferredBackupWindow", { preferredBackupWindow: "03:00-03:30" }],
  ["preferredBackupWindow", { preferredBackupWindow: "23:45-00:15" }],
  ["preferredMaintenanceWindow", { preferredMaintenanceWindow: "mon:00:00-mon:00:30" }],
  ["preferredBackupWindow", { preferredBackupWindow: "04:00-04:30", preferredMaintenanceWindow: "sun:04:30-sun:05:30" }],
  ["preferredBackupWindow", { preferredBackupWindow: "23:30-00:00", preferredMaintenanceWindow: "mon:00:00-mon:01:00" }],
  ["performanceInsights", { instanceClass: "db.t4g.micro", performanceInsights: true }],
  ["databaseName", { databaseName: "a" }],
  ["databaseName", { databaseName: "a".repeat(63) }],
  ["databaseName", { databaseName: "pulse_analytics_2" }],
  ["masterUsername", { masterUsername: "a" }],
  ["masterUsername", { masterUsername: "a".repeat(16) }],
  ["masterUsername", { masterUsername: "postgres" }],
  ["port", { port: 1150 }],
  ["port", { port: 65535 }],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 7 }],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 31 }],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 713 }],
  ["performanceInsightsRetentionDays", { performanceInsightsRetentionDays: 731 }],
  ["databaseInsightsMode", { databaseInsightsMode: "advanced", performanceInsights: true, performanceInsightsRetentionDays: 465 }],
  ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 0 }],
  ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 1 }],
  ["monitoringIntervalSeconds", { monitoringIntervalSeconds: 60 }],
  ["caCertIdentifier", { caCertIdentifier: "rds-ca-ecc384-g1" }],
  ["kmsKeyArn", { kmsKeyArn: "arn:aws:kms:eu-central-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666" }],
  ["logRetentionDays", { logRetentionDays: 1 }],
  ["logRetentionDays", { logRetentionDays: 3653 }],
  ["slowStatementThresholdMs", { slowStatementThresholdMs: -1 }],
  ["slowStatementThresholdMs", { slowStatementThresholdMs: 0 }],
  ["slowStatementThresholdMs", { slowStatementThresholdMs: 3600000 }],
  [
    "parameters",
    { parameters: { "rds.force_ssl": "1", "rds.logical_replication": { value: "1", applyMethod: "pending-reboot" }, work_mem: "16384" } },
  ],
  ["secretRecoveryWindowDays", { secretRecoveryWindowDays: 0 }],
  ["secretRecoveryWindowDays", { secretRecoveryWindowDays: 7 }],
  ["secretRecoveryWindowDays", { secretRecoveryWindowDays: 30 }],
  ["adminPort", { adminPort: 1 }],
  ["adminPort", { adminPort: 65535 }],
  ["vpcId", { vpcId: "vpc-0a1b2c3d" }],
  ["vpcId", { vpcId: "vpc-0a1b2c3d4e5f60718" }],
  ["subnetIds", { subnetIds: ["subnet-0a1b2c3d", "subnet-1a2b3c4d"] }],
  ["readReplicas", { readReplicas: { count: 0 } }],
  ["readReplicas", { readReplicas: { count: 15, instanceClass: "db.r7g.large", multiAz: true } }],
  ["readReplicas.instanceClass", { instanceClass: "db.r7g.large", readReplicas: { count: 1, instanceClass: "db.m7g.xlarge" } }],
  ["dbSubnetGroupName", { subnetIds: undefined, dbSubnetGroupName: "platform private_databases.v2" }],
  ["allowedSecurityGroupIds", { allowedSecurityGroupIds: ["sg-0a1b2c3d"], allowedCidrBlocks: [] }],
  ["allowedCidrBlocks", { allowedSecurityGroupIds: [], allowedCidrBlocks: ["0.0.0.0/1"] }],
  ["allowedCidrBlocks", { allowedCidrBlocks: ["192.168.1.10/32", "2001:db8::/32", "2001:db8:0:1::/64", "fd00::/8"] }],
];

describe("props validation", () => {
  it.each(REFUSED)("refuses a bad %s with one message naming it, its value and what is allowed (%j)", (prop, props, allowed) => {
    // A nested prop ("readReplicas.count") is shown by its own value.
    const shown = JSON.stringify(prop.split(".").reduce<unknown>((value, key) => (value as Record<string, unknown>)[key], props));
    expect(() => stackWithConstruct(props)).toThrow(`invalid ${prop}: ${shown}. Allowed: `);
    expect(() => stackWithConstruct(props)).toThrow(allowed);
  });

  it.each(ACCEPTED)("accepts %s at the edge of what is allowed (%j)", (_prop, props) => {
    expect(() => stackWithConstruct(props)).not.toThrow();
  });

  it.each([
    [{ "rds.force_ssl": "0" }, 'invalid parameters["rds.force_ssl"]: "0". Allowed: "1": the database accepts TLS connections only.'],
    [
      { log_min_duration_statement: "10" },
      'invalid parameters["log_min_duration_statement"]: "10". Allowed: not set here: use slowStatementThresholdMs.',
    ],
    [{ Work_Mem: "64" }, 'invalid parameters["Work_Mem"]: "Work_Mem". Allowed: a PostgreSQL parameter name'],
    [{ work_mem: "" }, 'invalid parameters["work_mem"]: "". Allowed: a non-empty string of at most 4096 characters.'],
    [
      { shared_preload_libraries: { value: "pg_cron", applyMethod: "later" } },
      'invalid parameters["shared_preload_libraries"].applyMethod: "later". Allowed: "immediate" or "pending-reboot" (for a static parameter).',
    ],
  ])("refuses parameters %j, naming the parameter, its value and what is allowed", (parameters, message) => {
    expect(() => stackWithConstruct({ parameters: parameters as Props["parameters"] })).toThrow(message);
  });

  it("says which construct the bad prop belongs to", () => {
    expect(() => stackWithConstruct({ port: 1 })).toThrow(/^PulseAnalyticsPostgres test\/db: invalid port/);
  });

  it("accepts every environment config as props, with a network", () => {
    for (const config of Object.values(environments)) {
      expect(() => stackWithConstruct(config)).not.toThrow();
    }
  });
});
