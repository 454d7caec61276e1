// PulseAnalyticsInstanceStack: the first of an environment's two stacks. The aws provider, the state
// backend, operator-facing input variables (validated like the construct's props), the
// PulseAnalyticsPostgres construct (the RDS instance and its AWS resources), and the outputs the
// database stack and the backend's connection settings are built from.

import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformBackend, TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import * as rules from "../src/config/rules";
import { PulseAnalyticsPostgres } from "../src/constructs/pulse-analytics-postgres";
import { PulseAnalyticsPostgresProps, validatePulseAnalyticsPostgresProps, withDefaults } from "../src/constructs/pulse-analytics-postgres-props";
import { INSTANCE_OUTPUTS } from "../src/outputs";
import { InputVariables } from "./input-variables";
import { ciRoleName, configureStack, instanceStackName, PulseAnalyticsStackProps } from "./stack-foundation";

/** The instance stack's outputs: what the database stack reads (through remote state) and passes on to db:url. */
export class PulseAnalyticsInstanceStack extends TerraformStack {
  public readonly database: PulseAnalyticsPostgres;
  /** The state backend, which the database stack reads this stack's outputs through. */
  public readonly backend: TerraformBackend;

  constructor(scope: Construct, props: PulseAnalyticsStackProps) {
    const { config } = props;
    super(scope, instanceStackName(config.environment));
    // Network props may be absent from the config (variables supply them); only sizing defaults are read here.
    const effective = withDefaults(config as PulseAnalyticsPostgresProps);

    this.backend = configureStack(this, props.stateBackend);

    const v = new InputVariables(this);
    const awsRegion = v.string("aws_region", "AWS region of every resource in this stack.", props.awsRegion);
    new AwsProvider(this, "aws", { region: awsRegion.stringValue });

    // Cross-variable rules point one way (throughput → iops → storage): Terraform refuses a cycle of
    // validation references ("Cycle: var.… (validation)").
    const storage = v.number(
      "pulse_analytics_db_storage_gb",
      "gp3 storage in GiB; from 400 GiB state pulse_analytics_db_iops and _storage_throughput_mibps in the same change.",
      effective.allocatedStorageGb,
      [rules.allocatedStorageRule.terraformCondition("var.pulse_analytics_db_storage_gb"), rules.allocatedStorageRule.allowed()],
    );
    const iops = v.optionalNumber(
      "pulse_analytics_db_iops",
      "Provisioned gp3 IOPS, 12000–64000; only from 400 GiB, and required there.",
      effective.iops,
      [
        rules.iopsRule.terraformCondition("var.pulse_analytics_db_iops", "var.pulse_analytics_db_storage_gb"),
        `a whole number from 12000 to 64000, and only with pulse_analytics_db_storage_gb >= ${rules.GP3_PROVISIONING_MIN_GB} ` +
          `(below that gp3 has a fixed 3000 IOPS baseline)`,
      ],
    );
    const throughput = v.optionalNumber(
      "pulse_analytics_db_storage_throughput_mibps",
      "Provisioned gp3 throughput in MiB/s, 500–4000 and at most pulse_analytics_db_iops / 4; with pulse_analytics_db_iops.",
      effective.storageThroughputMibps,
      [
        rules.storageThroughputRule.terraformCondition("var.pulse_analytics_db_storage_throughput_mibps", "var.pulse_analytics_db_iops"),
        "a whole number of MiB/s from 500 to 4000, at most a quarter of pulse_analytics_db_iops, which must be set with it",
      ],
    );
    v.require(throughput, [
      rules.provisionedStorageRule.terraformCondition(
        "var.pulse_analytics_db_storage_gb",
        "var.pulse_analytics_db_iops",
        "var.pulse_analytics_db_storage_throughput_mibps",
      ),
      `set, with pulse_analytics_db_iops, whenever pulse_analytics_db_storage_gb is ${rules.GP3_PROVISIONING_MIN_GB} or more ` +
        `(Terraform would otherwise send the stale 3000 IOPS of the smaller volume and RDS refuses it, ` +
        `hashicorp/terraform-provider-aws#28382)`,
    ]);
    const variables = {
      instanceClass: v.string("pulse_analytics_db_instance_class", "RDS DB instance class.", effective.instanceClass, [
        rules.instanceClassRule.terraformCondition("var.pulse_analytics_db_instance_class"),
        rules.instanceClassRule.allowed(),
      ]),
      storage,
      iops,
      throughput,
      maxStorage: v.number(
        "pulse_analytics_db_max_storage_gb",
        "Storage autoscaling ceiling in GiB, at least 10% above pulse_analytics_db_storage_gb.",
        effective.maxAllocatedStorageGb,
        [
          rules.maxAllocatedStorageRule.terraformCondition("var.pulse_analytics_db_max_storage_gb", "var.pulse_analytics_db_storage_gb"),
          "a whole number of GiB at least 10% above pulse_analytics_db_storage_gb and at most 65536, because RDS storage autoscaling needs that headroom",
        ],
      ),
      multiAz: v.bool("pulse_analytics_db_multi_az", "Run a synchronous standby in a second availability zone.", effective.multiAz as boolean),
      backupRetention: v.number(
        "pulse_analytics_db_backup_retention_days",
        "Days of automated backups and point-in-time recovery.",
        effective.backupRetentionDays,
        [
          rules.backupRetentionRule.terraformCondition("var.pulse_analytics_db_backup_retention_days", config.environment),
          rules.backupRetentionRule.allowed(undefined, config.environment),
        ],
      ),
      vpcId: v.string("pulse_analytics_db_vpc_id", "The existing VPC the database is placed in.", config.vpcId, [
        rules.vpcIdRule.terraformCondition("var.pulse_analytics_db_vpc_id"),
        rules.vpcIdRule.allowed(),
      ]),
      subnetIds: v.list("pulse_analytics_db_subnet_ids", "Private subnets (two zones at least) of the DB subnet group.", config.subnetIds, [
        rules.subnetIdsRule.terraformCondition("var.pulse_analytics_db_subnet_ids"),
        rules.subnetIdsRule.allowed(),
      ]),
      allowedSecurityGroupIds: v.list(
        "pulse_analytics_db_allowed_security_group_ids",
        "Security groups admitted on the database port (the backend's, the deploy host's).",
        effective.allowedSecurityGroupIds,
        [
          rules.allowedSecurityGroupIdsRule.terraformCondition("var.pulse_analytics_db_allowed_security_group_ids"),
          rules.allowedSecurityGroupIdsRule.allowed(),
        ],
        [
          rules.someIngressRule.terraformCondition("var.pulse_analytics_db_allowed_security_group_ids", "var.pulse_analytics_db_allowed_cidr_blocks"),
          rules.someIngressRule.allowed(),
        ],
      ),
      allowedCidrBlocks: v.list(
        "pulse_analytics_db_allowed_cidr_blocks",
        "CIDR blocks admitted on the database port, e.g. a VPN range.",
        effective.allowedCidrBlocks,
        [rules.allowedCidrBlocksRule.terraformCondition("var.pulse_analytics_db_allowed_cidr_blocks"), rules.allowedCidrBlocksRule.allowed()],
      ),
    };

    // The literal config is checked with the construct's own rules before it becomes variable defaults,
    // so a bad config fails here, at synth, and not as a surprising default at plan time. Network values
    // the config leaves out stand as the (plan-time) variables they will be.
    validatePulseAnalyticsPostgresProps(
      {
        ...config,
        vpcId: config.vpcId ?? variables.vpcId.stringValue,
        subnetIds: config.subnetIds ?? variables.subnetIds.listValue,
        allowedSecurityGroupIds: config.allowedSecurityGroupIds ?? variables.allowedSecurityGroupIds.listValue,
        allowedCidrBlocks: config.allowedCidrBlocks ?? variables.allowedCidrBlocks.listValue,
      },
      `environments.${config.environment}`,
    );

    this.database = new PulseAnalyticsPostgres(this, "pulse-analytics", {
      ...config,
      instanceClass: variables.instanceClass.stringValue,
      allocatedStorageGb: variables.storage.numberValue,
      iops: variables.iops.numberValue,
      storageThroughputMibps: variables.throughput.numberValue,
      maxAllocatedStorageGb: variables.maxStorage.numberValue,
      multiAz: variables.multiAz.booleanValue,
      backupRetentionDays: variables.backupRetention.numberValue,
      vpcId: variables.vpcId.stringValue,
      subnetIds: variables.subnetIds.listValue,
      allowedSecurityGroupIds: variables.allowedSecurityGroupIds.listValue,
      allowedCidrBlocks: variables.allowedCidrBlocks.listValue,
      // The CI roles of the bootstrap stack, named in the KMS key policy (see src/constructs/kms-key-policy.ts).
      kmsKeyAdministratorRoleNames: [ciRoleName(config.environment, "apply"), ...(config.kmsKeyAdministratorRoleNames ?? [])],
      kmsKeyUserRoleNames: [ciRoleName(config.environment, "plan"), ...(config.kmsKeyUserRoleNames ?? [])],
    });

    const db = this.database;
    const values: Record<keyof typeof INSTANCE_OUTPUTS, string | number> = {
      host: db.address,
      port: db.port,
      endpoint: db.endpoint,
      masterSecretArn: db.masterSecretArn,
      securityGroupId: db.securityGroupId,
      kmsKeyArn: db.kmsKeyArn,
      masterUsername: db.instance.username,
    };
    for (const key of Object.keys(INSTANCE_OUTPUTS) as Array<keyof typeof INSTANCE_OUTPUTS>) {
      const { name, description } = INSTANCE_OUTPUTS[key];
      new TerraformOutput(this, name, { value: values[key], description });
    }
  }
}
