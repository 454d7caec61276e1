// The stack outputs, once: each one's name and description, written by the stacks and read back by
// db:url (src/deployed/stack-outputs.ts). Adding an output is one entry here; its login-role secret outputs
// follow the role model.

import { LoginRoleKey, role } from "./roles/role-model";

export interface OutputSpec {
  readonly name: string;
  readonly description: string;
}

/** Written by `<env>-instance`; `<env>` reads them through terraform_remote_state. */
export const INSTANCE_OUTPUTS = {
  host: { name: "pulse_analytics_db_host", description: "DNS name of the database instance (no port)." },
  port: { name: "pulse_analytics_db_port", description: "Port PostgreSQL listens on." },
  endpoint: { name: "pulse_analytics_db_endpoint", description: "host:port of the database instance." },
  masterSecretArn: { name: "pulse_analytics_db_master_secret_arn", description: "Secrets Manager secret (RDS-managed) of the master user." },
  securityGroupId: { name: "pulse_analytics_db_security_group_id", description: "Security group of the database; admit clients here." },
  kmsKeyArn: { name: "pulse_analytics_db_kms_key_arn", description: "KMS key of storage, secrets and Performance Insights." },
  masterUsername: { name: "pulse_analytics_db_master_username", description: "The RDS master user (not a superuser)." },
  resourceIds: {
    name: "pulse_analytics_db_resource_ids",
    description: "DbiResourceId of the primary, then of each read replica: RDS IAM authentication names an instance by it.",
  },
  readerHost: {
    name: "pulse_analytics_db_reader_host",
    description: "Where read-only clients connect: the first read replica's DNS name, or the primary's when there is none.",
  },
  readerEndpoints: { name: "pulse_analytics_db_reader_endpoints", description: "host:port of each read replica (empty without replicas)." },
} as const satisfies Record<string, OutputSpec>;

/** Written by `<env>-instance` when its RDS events go to a topic (eventNotifications): subscribe to it. */
export const NOTIFICATION_TOPIC_OUTPUT: OutputSpec = {
  name: "pulse_analytics_db_notification_topic_arn",
  description: "SNS topic of the RDS events of the instance and its replicas: subscribe people or a chat tool to it.",
};

/** Written by `<env>`, the database level, beside the instance outputs it repeats for db:url and the backend. */
export const DATABASE_OUTPUTS = {
  databaseName: { name: "pulse_analytics_db_name", description: "The analytics database." },
  appUser: { name: "pulse_analytics_db_user", description: "The role the PULSE backend logs in as." },
} as const satisfies Record<string, OutputSpec>;

/** The output holding a login role's Secrets Manager secret ARN (a role that signs in with a password). */
export function loginRoleSecretOutput(key: LoginRoleKey): OutputSpec {
  return { name: `pulse_analytics_db_${key}_secret_arn`, description: `Secret of ${role(key).name}.` };
}

/** The output holding the ARN of the IAM policy that lets its holder sign in as a login role with IAM tokens. */
export function loginRoleConnectPolicyOutput(key: LoginRoleKey): OutputSpec {
  return {
    name: `pulse_analytics_db_${key}_connect_policy_arn`,
    description: `IAM policy allowing rds-db:connect as ${role(key).name}: attach it to the IAM role of its users.`,
  };
}
