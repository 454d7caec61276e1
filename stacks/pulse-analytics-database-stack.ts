// PulseAnalyticsDatabaseStack: the second of an environment's two stacks, named after the environment.
// The database level (PulseAnalyticsDatabase: database, schema, roles, grants, login-role secrets)
// configured from the instance stack's outputs, read through its state; and every output the
// backend's connection settings are built from (db:url reads this stack's outputs alone).
//
// Why two stacks: the postgresql provider is configured from the instance (address, master secret),
// and HashiCorp's guidance is not to configure a provider from resources of the same configuration:
// before the first apply there is nothing to connect to, and a planned replacement of the instance
// breaks every refresh. Applied after the instance stack, the provider always meets an instance.

import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformOutput, TerraformStack } from "cdktf";
import { Construct } from "constructs";
import * as rules from "../src/config/rules";
import { PulseAnalyticsDatabase } from "../src/constructs/pulse-analytics-database";
import { role } from "../src/db/role-model";
import { InputVariables } from "./input-variables";
import { INSTANCE_OUTPUTS, PulseAnalyticsInstanceStack } from "./pulse-analytics-instance-stack";
import { configureStack, databaseStackName, PulseAnalyticsStackProps } from "./stack-foundation";

export interface PulseAnalyticsDatabaseStackProps extends PulseAnalyticsStackProps {
  /** The environment's instance stack, whose outputs configure this one. */
  readonly instanceStack: PulseAnalyticsInstanceStack;
}

export class PulseAnalyticsDatabaseStack extends TerraformStack {
  public readonly database: PulseAnalyticsDatabase;

  constructor(scope: Construct, props: PulseAnalyticsDatabaseStackProps) {
    const { config, instanceStack } = props;
    super(scope, databaseStackName(config.environment));
    configureStack(this, props.stateBackend);
    // cdktf deploys (and destroys) the instance stack first (last) when both are asked for.
    this.addDependency(instanceStack);

    const v = new InputVariables(this);
    const awsRegion = v.string("aws_region", "AWS region of every resource in this stack.", props.awsRegion);
    new AwsProvider(this, "aws", { region: awsRegion.stringValue });
    const adminHost = v.optionalString(
      "pulse_analytics_db_admin_host",
      "Host the postgresql provider connects to instead of the instance, e.g. localhost through an SSM tunnel.",
    );
    const adminPort = v.optionalNumber(
      "pulse_analytics_db_admin_port",
      "Port the postgresql provider connects to instead of the instance's, e.g. the tunnel's local port.",
      undefined,
      [rules.portRangeRule.terraformCondition("var.pulse_analytics_db_admin_port"), rules.portRangeRule.allowed()],
    );

    // The instance stack's outputs, read from its state (the same backend, its own key).
    const instance = instanceStack.backend.getRemoteStateDataSource(this, "instance", instanceStack.node.id);
    const output = (name: string) => instance.getString(name);

    this.database = new PulseAnalyticsDatabase(this, "pulse-analytics", {
      ...config,
      adminHost: adminHost.stringValue,
      adminPort: adminPort.numberValue,
      instance: {
        address: output(INSTANCE_OUTPUTS.host),
        port: instance.getNumber(INSTANCE_OUTPUTS.port),
        masterUsername: output(INSTANCE_OUTPUTS.masterUsername),
        masterSecretArn: output(INSTANCE_OUTPUTS.masterSecretArn),
        kmsKeyArn: output(INSTANCE_OUTPUTS.kmsKeyArn),
      },
    });

    const db = this.database;
    const outputs: Array<[string, string | number, string]> = [
      [INSTANCE_OUTPUTS.host, output(INSTANCE_OUTPUTS.host), "DNS name of the database instance (no port)."],
      [INSTANCE_OUTPUTS.port, instance.getNumber(INSTANCE_OUTPUTS.port), "Port PostgreSQL listens on."],
      ["pulse_analytics_db_name", db.databaseName, "The analytics database."],
      ["pulse_analytics_db_user", db.appUsername, "The role the PULSE backend logs in as."],
      [INSTANCE_OUTPUTS.endpoint, output(INSTANCE_OUTPUTS.endpoint), "host:port of the database instance."],
      [INSTANCE_OUTPUTS.masterSecretArn, output(INSTANCE_OUTPUTS.masterSecretArn), "Secrets Manager secret (RDS-managed) of the master user."],
      ["pulse_analytics_db_app_secret_arn", db.loginRoleSecretArns.app, `Secret of ${role("app").name}.`],
      ["pulse_analytics_db_migrator_secret_arn", db.loginRoleSecretArns.migrator, `Secret of ${role("migrator").name}.`],
      ["pulse_analytics_db_readonly_secret_arn", db.loginRoleSecretArns.readonly, `Secret of ${role("readonly").name}.`],
      [INSTANCE_OUTPUTS.securityGroupId, output(INSTANCE_OUTPUTS.securityGroupId), "Security group of the database; admit clients here."],
    ];
    for (const [name, value, description] of outputs) {
      new TerraformOutput(this, name, { value, description });
    }
  }
}
