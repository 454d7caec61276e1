// PulseAnalyticsStack: one environment of the PULSE Analytics Postgres as a Terraform stack: the aws
// provider, the state backend, operator-facing input variables (validated like the construct's props),
// the PulseAnalyticsPostgres construct, and the outputs the backend's connection settings are built from.

import { LocalBackend, S3Backend, TerraformOutput, TerraformStack, TerraformVariable, Token } from "cdktf";
import { Construct } from "constructs";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { EnvironmentConfig } from "../src/config/environments";
import * as rules from "../src/config/rules";
import { PulseAnalyticsPostgres } from "../src/constructs/pulse-analytics-postgres";
import { PulseAnalyticsPostgresProps, validatePulseAnalyticsPostgresProps, withDefaults } from "../src/constructs/pulse-analytics-postgres-props";
import { role } from "../src/db/role-model";

/** Where Terraform state lives; from PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION in main.ts. */
export interface S3StateLocation {
  readonly bucket: string;
  readonly region: string;
}

export interface PulseAnalyticsStackProps {
  /** The environment's configuration (src/config/environments.ts). */
  readonly config: EnvironmentConfig;
  /** Default of the `aws_region` variable. */
  readonly awsRegion: string;
  /**
   * S3 bucket and region for the state.
   * @default undefined (a local backend: terraform.<env>.tfstate at the project root)
   */
  readonly stateBackend?: S3StateLocation;
}

/** S3-native state locking (use_lockfile) needs Terraform 1.10; cross-variable validation needs 1.9. */
const REQUIRED_TERRAFORM_VERSION = ">= 1.10.0";

export class PulseAnalyticsStack extends TerraformStack {
  public readonly database: PulseAnalyticsPostgres;

  constructor(scope: Construct, environment: string, props: PulseAnalyticsStackProps) {
    super(scope, environment);
    const { config } = props;
    // Network props may be absent from the config (variables supply them); only sizing defaults are read here.
    const effective = withDefaults(config as PulseAnalyticsPostgresProps);

    this.addOverride("terraform.required_version", REQUIRED_TERRAFORM_VERSION);
    this.configureBackend(config.environment, props.stateBackend);

    const v = new InputVariables(this);
    const awsRegion = v.string("aws_region", "AWS region of every resource in this stack.", props.awsRegion);
    new AwsProvider(this, "aws", { region: awsRegion.stringValue });

    const storage = v.number(
      "pulse_analytics_db_storage_gb",
      "Initial gp3 storage in GiB.",
      effective.allocatedStorageGb,
      [rules.allocatedStorageRule.terraformCondition("var.pulse_analytics_db_storage_gb"), rules.allocatedStorageRule.allowed()],
      ...(effective.iops === undefined
        ? []
        : [
            [
              rules.iopsRule.terraformCondition(String(effective.iops), "var.pulse_analytics_db_storage_gb"),
              `at least ${rules.GP3_PROVISIONING_MIN_GB} GiB, because this environment provisions ${effective.iops} gp3 IOPS`,
            ] as Condition,
          ]),
    );
    const variables = {
      instanceClass: v.string("pulse_analytics_db_instance_class", "RDS DB instance class.", effective.instanceClass, [
        rules.instanceClassRule.terraformCondition("var.pulse_analytics_db_instance_class"),
        rules.instanceClassRule.allowed(),
      ]),
      storage,
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
          rules.someIngressRule.terraformCondition(
            "var.pulse_analytics_db_allowed_security_group_ids",
            "var.pulse_analytics_db_allowed_cidr_blocks",
          ),
          rules.someIngressRule.allowed(),
        ],
      ),
      allowedCidrBlocks: v.list(
        "pulse_analytics_db_allowed_cidr_blocks",
        "CIDR blocks admitted on the database port, e.g. a VPN range.",
        effective.allowedCidrBlocks,
        [rules.allowedCidrBlocksRule.terraformCondition("var.pulse_analytics_db_allowed_cidr_blocks"), rules.allowedCidrBlocksRule.allowed()],
      ),
      adminHost: v.optionalString(
        "pulse_analytics_db_admin_host",
        "Host the postgresql provider connects to instead of the instance, e.g. localhost through an SSM tunnel.",
      ),
      adminPort: v.optionalNumber(
        "pulse_analytics_db_admin_port",
        "Port the postgresql provider connects to instead of the instance's, e.g. the tunnel's local port.",
        [rules.portRangeRule.terraformCondition("var.pulse_analytics_db_admin_port"), rules.portRangeRule.allowed()],
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
      maxAllocatedStorageGb: variables.maxStorage.numberValue,
      multiAz: variables.multiAz.booleanValue,
      backupRetentionDays: variables.backupRetention.numberValue,
      vpcId: variables.vpcId.stringValue,
      subnetIds: variables.subnetIds.listValue,
      allowedSecurityGroupIds: variables.allowedSecurityGroupIds.listValue,
      allowedCidrBlocks: variables.allowedCidrBlocks.listValue,
      adminHost: variables.adminHost.stringValue,
      adminPort: variables.adminPort.numberValue,
    });

    const db = this.database;
    const outputs: Array<[string, string | number, string]> = [
      ["pulse_analytics_db_host", db.address, "DNS name of the database instance (no port)."],
      ["pulse_analytics_db_port", db.port, "Port PostgreSQL listens on."],
      ["pulse_analytics_db_name", db.databaseName, "The analytics database."],
      ["pulse_analytics_db_user", db.appUsername, "The role the PULSE backend logs in as."],
      ["pulse_analytics_db_endpoint", db.endpoint, "host:port of the database instance."],
      ["pulse_analytics_db_master_secret_arn", db.masterSecretArn, "Secrets Manager secret (RDS-managed) of the master user."],
      ["pulse_analytics_db_app_secret_arn", db.loginRoleSecretArns.app, `Secret of ${role("app").name}.`],
      ["pulse_analytics_db_migrator_secret_arn", db.loginRoleSecretArns.migrator, `Secret of ${role("migrator").name}.`],
      ["pulse_analytics_db_readonly_secret_arn", db.loginRoleSecretArns.readonly, `Secret of ${role("readonly").name}.`],
      ["pulse_analytics_db_security_group_id", db.securityGroupId, "Security group of the database; admit clients here."],
    ];
    for (const [name, value, description] of outputs) {
      new TerraformOutput(this, name, { value, description });
    }
  }

  private configureBackend(environment: string, state: S3StateLocation | undefined): void {
    if (!state) {
      // Relative to cdktf.out/stacks/<env>, where Terraform runs: the state file sits at the project
      // root (git-ignored), survives a clean of cdktf.out, and keeps the synthesized JSON machine-independent.
      new LocalBackend(this, { path: `../../../terraform.${environment}.tfstate` });
      return;
    }
    const backend = new S3Backend(this, {
      bucket: state.bucket,
      region: state.region,
      key: `pulse-analytics/${environment}/terraform.tfstate`,
      encrypt: true,
    });
    // S3-native state locking (Terraform 1.10+); cdktf 0.21's S3Backend has no property for it.
    backend.addOverride("use_lockfile", true);
  }
}

/** A Terraform condition and, in words, what passes it. */
type Condition = [condition: string, allowed: string];

/** Declares the stack's input variables, each with its validation blocks, in one style. */
class InputVariables {
  constructor(private readonly stack: Construct) {}

  string(name: string, description: string, defaultValue: string | undefined, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "string", description, defaultValue, conditions);
  }

  number(name: string, description: string, defaultValue: number, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "number", description, defaultValue, conditions);
  }

  bool(name: string, description: string, defaultValue: boolean): TerraformVariable {
    return this.declare(name, "bool", description, defaultValue, []);
  }

  list(name: string, description: string, defaultValue: string[] | undefined, ...conditions: Condition[]): TerraformVariable {
    return this.declare(name, "list(string)", description, defaultValue, conditions);
  }

  /** A string that may be left null: then the construct's own value applies. */
  optionalString(name: string, description: string): TerraformVariable {
    return new TerraformVariable(this.stack, name, { type: "string", description, default: Token.nullValue(), nullable: true });
  }

  /** A number that may be left null; its conditions apply only when it is set. */
  optionalNumber(name: string, description: string, ...conditions: Condition[]): TerraformVariable {
    const variable = new TerraformVariable(this.stack, name, { type: "number", description, default: Token.nullValue(), nullable: true });
    for (const [condition, allowed] of conditions) {
      // A conditional, not ||: Terraform evaluates both sides of || and floor(null) is an error.
      variable.addValidation({ condition: `\${var.${name} == null ? true : (${condition})}`, errorMessage: errorMessage(name, allowed) });
    }
    return variable;
  }

  private declare(name: string, type: string, description: string, defaultValue: unknown, conditions: Condition[]): TerraformVariable {
    // No default means the operator must supply it (TF_VAR_<name>, -var, or a .tfvars file).
    const variable = new TerraformVariable(this.stack, name, { type, description, default: defaultValue, nullable: false });
    for (const [condition, allowed] of conditions) {
      variable.addValidation({ condition: `\${${condition}}`, errorMessage: errorMessage(name, allowed) });
    }
    return variable;
  }
}

function errorMessage(name: string, allowed: string): string {
  // Terraform requires a validation message to be a sentence ending with a period.
  return `${name}: allowed is ${allowed}.`;
}
