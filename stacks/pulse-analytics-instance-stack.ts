// PulseAnalyticsInstanceStack: the first of an environment's two stacks. The aws provider, the state
// backend, operator-facing input variables (validated like the construct's props), the
// PulseAnalyticsPostgres construct (the RDS instance and its AWS resources), and the outputs the
// database stack and the backend's connection settings are built from.

import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformBackend, TerraformOutput, TerraformStack, Token } from "cdktf";
import { Construct } from "constructs";
import * as rules from "../src/config/rules";
import { PulseAnalyticsPostgres } from "../src/constructs/pulse-analytics-postgres";
import { PulseAnalyticsPostgresProps, validatePulseAnalyticsPostgresProps, withDefaults } from "../src/constructs/pulse-analytics-postgres-props";
import { INSTANCE_OUTPUTS, NOTIFICATION_TOPIC_OUTPUT } from "../src/outputs";
import { InputVariables } from "./input-variables";
import { INSTANCE_VARIABLES as I, ref } from "./operator-variables";
import { ciRoleName, configureStack, environmentSettings, environmentTags, instanceStackName, PulseAnalyticsStackProps } from "./stack-foundation";

/** The instance stack's outputs: what the database stack reads (through remote state) and passes on to db:url. */
export class PulseAnalyticsInstanceStack extends TerraformStack {
  public readonly database: PulseAnalyticsPostgres;
  /** The state backend, which the database stack reads this stack's outputs through. */
  public readonly backend: TerraformBackend;

  constructor(scope: Construct, props: PulseAnalyticsStackProps) {
    const { config } = props;
    super(scope, instanceStackName(config.environment));
    const settings = environmentSettings(config);
    // Network props may be absent from the config (variables supply them); only sizing defaults are read here.
    const effective = withDefaults(settings as PulseAnalyticsPostgresProps);

    this.backend = configureStack(this, props.stateBackend);

    const v = new InputVariables(this);
    const awsRegion = v.string("aws_region", "AWS region of every resource in this stack.", props.awsRegion);
    new AwsProvider(this, "aws", { region: awsRegion.stringValue, defaultTags: [{ tags: environmentTags(config.environment) }] });

    // Cross-variable rules point one way (throughput → iops → storage): Terraform refuses a cycle of
    // validation references ("Cycle: var.… (validation)").
    const storage = v.number(I.storage.name, I.storage.description, effective.allocatedStorageGb, [
      rules.allocatedStorageRule.terraformCondition(ref(I.storage)),
      rules.allocatedStorageRule.allowed(),
    ]);
    const iops = v.optionalNumber(I.iops.name, I.iops.description, effective.iops, [
      rules.iopsRule.terraformCondition(ref(I.iops), ref(I.storage)),
      `a whole number from 12000 to 64000, and only with pulse_analytics_db_storage_gb >= ${rules.GP3_PROVISIONING_MIN_GB} ` +
        `(below that gp3 has a fixed 3000 IOPS baseline)`,
    ]);
    const throughput = v.optionalNumber(I.throughput.name, I.throughput.description, effective.storageThroughputMibps, [
      rules.storageThroughputRule.terraformCondition(ref(I.throughput), ref(I.iops)),
      "a whole number of MiB/s from 500 to 4000, at most a quarter of pulse_analytics_db_iops, which must be set with it",
    ]);
    v.require(throughput, [
      rules.provisionedStorageRule.terraformCondition(ref(I.storage), ref(I.iops), ref(I.throughput)),
      `set, with pulse_analytics_db_iops, whenever pulse_analytics_db_storage_gb is ${rules.GP3_PROVISIONING_MIN_GB} or more ` +
        `(Terraform would otherwise send the stale 3000 IOPS of the smaller volume and RDS refuses it, ` +
        `hashicorp/terraform-provider-aws#28382)`,
    ]);
    const variables = {
      instanceClass: v.string(
        I.instanceClass.name,
        I.instanceClass.description,
        effective.instanceClass,
        [rules.instanceClassRule.terraformCondition(ref(I.instanceClass)), rules.instanceClassRule.allowed()],
        ...(effective.alarms
          ? [[rules.alarmSizedClassRule.terraformCondition(ref(I.instanceClass)), rules.alarmSizedClassRule.allowed()] as [string, string]]
          : []),
      ),
      storage,
      iops,
      throughput,
      maxStorage: v.number(I.maxStorage.name, I.maxStorage.description, effective.maxAllocatedStorageGb, [
        rules.maxAllocatedStorageRule.terraformCondition(ref(I.maxStorage), ref(I.storage)),
        "a whole number of GiB at least 10% above pulse_analytics_db_storage_gb and at most 65536, because RDS storage autoscaling needs that headroom",
      ]),
      multiAz: v.bool(I.multiAz.name, I.multiAz.description, effective.multiAz as boolean),
      backupRetention: v.number(I.backupRetention.name, I.backupRetention.description, effective.backupRetentionDays, [
        rules.backupRetentionRule.terraformCondition(ref(I.backupRetention), String(effective.minimumBackupRetentionDays)),
        rules.backupRetentionRule.allowed(undefined, effective.minimumBackupRetentionDays),
      ]),
      vpcId: v.string(I.vpcId.name, I.vpcId.description, config.vpcId, [rules.vpcIdRule.terraformCondition(ref(I.vpcId)), rules.vpcIdRule.allowed()]),
      subnetIds: v.list(I.subnetIds.name, I.subnetIds.description, config.subnetIds, [
        rules.subnetIdsRule.terraformCondition(ref(I.subnetIds)),
        rules.subnetIdsRule.allowed(),
      ]),
      allowedSecurityGroupIds: v.list(
        I.allowedSecurityGroupIds.name,
        I.allowedSecurityGroupIds.description,
        effective.allowedSecurityGroupIds,
        [rules.allowedSecurityGroupIdsRule.terraformCondition(ref(I.allowedSecurityGroupIds)), rules.allowedSecurityGroupIdsRule.allowed()],
        [rules.someIngressRule.terraformCondition(ref(I.allowedSecurityGroupIds), ref(I.allowedCidrBlocks)), rules.someIngressRule.allowed()],
      ),
      allowedCidrBlocks: v.list(I.allowedCidrBlocks.name, I.allowedCidrBlocks.description, effective.allowedCidrBlocks, [
        rules.allowedCidrBlocksRule.terraformCondition(ref(I.allowedCidrBlocks)),
        rules.allowedCidrBlocksRule.allowed(),
      ]),
    };

    // The literal config is checked with the construct's own rules before it becomes variable defaults,
    // so a bad config fails here, at synth, and not as a surprising default at plan time. Network values
    // the config leaves out stand as the (plan-time) variables they will be.
    validatePulseAnalyticsPostgresProps(
      {
        ...settings,
        vpcId: config.vpcId ?? variables.vpcId.stringValue,
        subnetIds: config.subnetIds ?? variables.subnetIds.listValue,
        allowedSecurityGroupIds: config.allowedSecurityGroupIds ?? variables.allowedSecurityGroupIds.listValue,
        allowedCidrBlocks: config.allowedCidrBlocks ?? variables.allowedCidrBlocks.listValue,
      },
      `environments.${config.environment}`,
    );

    this.database = new PulseAnalyticsPostgres(this, "pulse-analytics", {
      ...settings,
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
    const values: Record<keyof typeof INSTANCE_OUTPUTS, string | number | string[]> = {
      host: db.address,
      port: db.port,
      endpoint: db.endpoint,
      masterSecretArn: db.masterSecretArn,
      securityGroupId: db.securityGroupId,
      kmsKeyArn: db.kmsKeyArn,
      masterUsername: db.instance.username,
      resourceIds: db.connection.resourceIds,
      readerHost: db.readerAddress,
      readerEndpoints: db.readReplicas.map((replica) => replica.endpoint),
    };
    for (const key of Object.keys(INSTANCE_OUTPUTS) as Array<keyof typeof INSTANCE_OUTPUTS>) {
      const { name, description } = INSTANCE_OUTPUTS[key];
      const value = values[key];
      // A literal list passed as is makes cdktf call util.isArray, which Node 24 reports as deprecated
      // (DEP0044) on every synth; as a token it renders the same list.
      new TerraformOutput(this, name, { value: Array.isArray(value) ? Token.asAny(value) : value, description });
    }
    if (db.notificationTopicArn !== undefined) {
      new TerraformOutput(this, NOTIFICATION_TOPIC_OUTPUT.name, {
        value: db.notificationTopicArn,
        description: NOTIFICATION_TOPIC_OUTPUT.description,
      });
    }
  }
}
