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
import { LOGIN_ROLE_KEYS } from "../src/roles/role-model";
import { DATABASE_OUTPUTS, INSTANCE_OUTPUTS, loginRoleConnectPolicyOutput, loginRoleSecretOutput, OutputSpec } from "../src/outputs";
import { InputVariables } from "./input-variables";
import { DATABASE_VARIABLES as D, ref } from "./operator-variables";
import { PulseAnalyticsInstanceStack } from "./pulse-analytics-instance-stack";
import { configureStack, databaseStackName, environmentSettings, environmentTags, PulseAnalyticsStackProps } from "./stack-foundation";

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
    new AwsProvider(this, "aws", { region: awsRegion.stringValue, defaultTags: [{ tags: environmentTags(config.environment) }] });
    const adminHost = v.optionalString(D.adminHost.name, D.adminHost.description);
    const adminPort = v.optionalNumber(D.adminPort.name, D.adminPort.description, undefined, [
      rules.portRangeRule.terraformCondition(ref(D.adminPort)),
      rules.portRangeRule.allowed(),
    ]);

    // The instance stack's outputs, read from its state (the same backend, its own key).
    const instance = instanceStack.backend.getRemoteStateDataSource(this, "instance", instanceStack.node.id);
    const output = ({ name }: OutputSpec) => instance.getString(name);

    this.database = new PulseAnalyticsDatabase(this, "pulse-analytics", {
      ...environmentSettings(config),
      adminHost: adminHost.stringValue,
      adminPort: adminPort.numberValue,
      instance: {
        address: output(INSTANCE_OUTPUTS.host),
        port: instance.getNumber(INSTANCE_OUTPUTS.port.name),
        masterUsername: output(INSTANCE_OUTPUTS.masterUsername),
        masterSecretArn: output(INSTANCE_OUTPUTS.masterSecretArn),
        kmsKeyArn: output(INSTANCE_OUTPUTS.kmsKeyArn),
        resourceIds: instance.getList(INSTANCE_OUTPUTS.resourceIds.name),
      },
    });

    const db = this.database;
    // The instance's outputs db:url and the backend need, repeated, then the database level's own.
    const outputs: Array<[OutputSpec, string | number | string[]]> = [
      [INSTANCE_OUTPUTS.host, output(INSTANCE_OUTPUTS.host)],
      [INSTANCE_OUTPUTS.port, instance.getNumber(INSTANCE_OUTPUTS.port.name)],
      [DATABASE_OUTPUTS.databaseName, db.databaseName],
      [DATABASE_OUTPUTS.appUser, db.appUsername],
      [INSTANCE_OUTPUTS.endpoint, output(INSTANCE_OUTPUTS.endpoint)],
      [INSTANCE_OUTPUTS.readerHost, output(INSTANCE_OUTPUTS.readerHost)],
      [INSTANCE_OUTPUTS.readerEndpoints, instance.getList(INSTANCE_OUTPUTS.readerEndpoints.name)],
      [INSTANCE_OUTPUTS.masterSecretArn, output(INSTANCE_OUTPUTS.masterSecretArn)],
      // Per login role, how it signs in: the secret holding its password, or the IAM policy to attach.
      ...LOGIN_ROLE_KEYS.flatMap((key): Array<[OutputSpec, string]> => {
        const secretArn = db.loginRoleSecretArns[key];
        const policyArn = db.connectPolicyArns[key];
        return secretArn !== undefined ? [[loginRoleSecretOutput(key), secretArn]] : [[loginRoleConnectPolicyOutput(key), policyArn!]];
      }),
      [INSTANCE_OUTPUTS.securityGroupId, output(INSTANCE_OUTPUTS.securityGroupId)],
    ];
    for (const [{ name, description }, value] of outputs) {
      new TerraformOutput(this, name, { value, description });
    }
  }
}
