// The operator's Terraform variables of an environment's stacks, once: each one's name, the construct
// prop it stands for, its type and its description. The stacks declare them from here (with the
// rules of src/config/rules.ts as validation blocks), the variable tests map them to props from here,
// and a docs test holds the README's variable tables to it.

import type { PulseAnalyticsPostgresProps } from "../src/constructs/pulse-analytics-postgres-props";

export interface OperatorVariable {
  readonly name: string;
  /** The construct prop the variable sets. */
  readonly prop: keyof PulseAnalyticsPostgresProps;
  readonly type: "string" | "number" | "bool" | "list(string)";
  readonly description: string;
}

/** Of `<env>-instance`, in the order the stack declares them. */
export const INSTANCE_VARIABLES = {
  storage: {
    name: "pulse_analytics_db_storage_gb",
    prop: "allocatedStorageGb",
    type: "number",
    description: "gp3 storage in GiB; from 400 GiB state pulse_analytics_db_iops and _storage_throughput_mibps in the same change.",
  },
  iops: {
    name: "pulse_analytics_db_iops",
    prop: "iops",
    type: "number",
    description: "Provisioned gp3 IOPS, 12000–64000; only from 400 GiB, and required there.",
  },
  throughput: {
    name: "pulse_analytics_db_storage_throughput_mibps",
    prop: "storageThroughputMibps",
    type: "number",
    description: "Provisioned gp3 throughput in MiB/s, 500–4000 and at most pulse_analytics_db_iops / 4; with pulse_analytics_db_iops.",
  },
  instanceClass: { name: "pulse_analytics_db_instance_class", prop: "instanceClass", type: "string", description: "RDS DB instance class." },
  maxStorage: {
    name: "pulse_analytics_db_max_storage_gb",
    prop: "maxAllocatedStorageGb",
    type: "number",
    description: "Storage autoscaling ceiling in GiB, at least 10% above pulse_analytics_db_storage_gb.",
  },
  multiAz: {
    name: "pulse_analytics_db_multi_az",
    prop: "multiAz",
    type: "bool",
    description: "Run a synchronous standby in a second availability zone.",
  },
  backupRetention: {
    name: "pulse_analytics_db_backup_retention_days",
    prop: "backupRetentionDays",
    type: "number",
    description: "Days of automated backups and point-in-time recovery.",
  },
  vpcId: { name: "pulse_analytics_db_vpc_id", prop: "vpcId", type: "string", description: "The existing VPC the database is placed in." },
  subnetIds: {
    name: "pulse_analytics_db_subnet_ids",
    prop: "subnetIds",
    type: "list(string)",
    description: "Private subnets (two zones at least) of the DB subnet group.",
  },
  allowedSecurityGroupIds: {
    name: "pulse_analytics_db_allowed_security_group_ids",
    prop: "allowedSecurityGroupIds",
    type: "list(string)",
    description: "Security groups admitted on the database port (the backend's, the deploy host's).",
  },
  allowedCidrBlocks: {
    name: "pulse_analytics_db_allowed_cidr_blocks",
    prop: "allowedCidrBlocks",
    type: "list(string)",
    description: "CIDR blocks admitted on the database port, e.g. a VPN range.",
  },
} as const satisfies Record<string, OperatorVariable>;

/** Of `<env>`, the database level. */
export const DATABASE_VARIABLES = {
  adminHost: {
    name: "pulse_analytics_db_admin_host",
    prop: "adminHost",
    type: "string",
    description: "Host the postgresql provider connects to instead of the instance, e.g. localhost through an SSM tunnel.",
  },
  adminPort: {
    name: "pulse_analytics_db_admin_port",
    prop: "adminPort",
    type: "number",
    description: "Port the postgresql provider connects to instead of the instance's, e.g. the tunnel's local port.",
  },
} as const satisfies Record<string, OperatorVariable>;

/** The Terraform reference to a variable, for validation conditions: `var.<name>`. */
export function ref(variable: OperatorVariable): string {
  return `var.${variable.name}`;
}
