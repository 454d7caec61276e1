// The input rules of the PULSE Analytics Postgres (AWS RDS and PostgreSQL limits, and the rules
// each environment adds), each written once with its TypeScript check and, for the values an operator
// can set through a Terraform variable, its Terraform condition.
//
// The construct checks literal props with `isValid` in its constructor; the stack turns the same
// rule into a `validation` block on the Terraform variable that can override the prop, so an
// operator's `TF_VAR_…` is held to exactly the rule the code is.

import { Token } from "cdktf";
import ipaddr from "ipaddr.js";
import { PulseAnalyticsError } from "../support/errors";

/** An environment of the PULSE Analytics Postgres. */
export type EnvironmentName = "dev" | "staging" | "prod";
export const ENVIRONMENT_NAMES: readonly EnvironmentName[] = ["dev", "staging", "prod"];

/**
 * One rule. `isValid` takes the value under test first, then any other values it depends on;
 * `allowed` says in words what passes.
 */
export interface Rule<Args extends unknown[]> {
  allowed(...context: Partial<Args>): string;
  isValid(...values: Args): boolean;
}

/**
 * A rule for a value an operator can also set through a Terraform variable: `terraformCondition`
 * takes Terraform expressions (such as `var.x`) in the order of `isValid`'s values and returns the
 * same rule as a boolean Terraform expression.
 */
export interface TerraformRule<Args extends unknown[]> extends Rule<Args> {
  terraformCondition(...refs: { [K in keyof Args]: string }): string;
}

/** Raised for a prop or config value that breaks a rule. */
export class InvalidInputError extends PulseAnalyticsError {}

/** The one-line message for a bad value: what, which value, what is allowed. */
export function describeViolation(field: string, value: unknown, allowed: string): string {
  return `invalid ${field}: ${JSON.stringify(value)}. Allowed: ${allowed}.`;
}

/** A Terraform condition that `expr` holds for every element `v` of the list `ref`. */
function everyElement(ref: string, expr: (v: string) => string): string {
  return `alltrue([for v in ${ref} : ${expr("v")}])`;
}

function isWholeNumberIn(value: number, min: number, max: number): boolean {
  return typeof value === "number" && Number.isInteger(value) && value >= min && value <= max;
}

function wholeNumberInCondition(ref: string, min: number, max: number): string {
  return `floor(${ref}) == ${ref} && ${ref} >= ${min} && ${ref} <= ${max}`;
}

/** Terraform and JavaScript share this regex syntax (RE2 is a subset here); `^…$` anchors both. */
function matches(pattern: RegExp, value: unknown): boolean {
  return typeof value === "string" && pattern.test(value);
}

function regexCondition(ref: string, pattern: RegExp): string {
  // jsonencode-style escaping: a backslash in the pattern must be doubled inside an HCL string.
  return `can(regex(${JSON.stringify(pattern.source)}, ${ref}))`;
}

// --- engine and instance ------------------------------------------------------------------

const SUPPORTED_ENGINE_MAJOR_VERSIONS = [16, 17, 18] as const;
export type EngineMajorVersion = (typeof SUPPORTED_ENGINE_MAJOR_VERSIONS)[number];

export const engineMajorVersionRule: Rule<[number]> = {
  allowed: () => `one of ${SUPPORTED_ENGINE_MAJOR_VERSIONS.join(", ")} (RDS PostgreSQL majors this project supports)`,
  isValid: (v) => (SUPPORTED_ENGINE_MAJOR_VERSIONS as readonly number[]).includes(v),
};

/** A full version of the configured major, e.g. "17.9" with engineMajorVersion 17. */
export const engineVersionRule: Rule<[string, number]> = {
  allowed: (_version, major) => `a minor version of engineMajorVersion ${major}, "${major}.<minor>", e.g. "${major}.9"`,
  isValid: (version, major) => typeof version === "string" && new RegExp(`^${major}\\.[0-9]{1,3}$`).test(version),
};

// Instance classes RDS offers for PostgreSQL (AWS "Supported DB engines for DB instance classes").
// Burstable classes come in micro…2xlarge; the others from large upward, plus metal.
// Performance Insights needs no rule of its own: AWS lists class restrictions (t2/t3/t4g micro and
// small) for MariaDB and MySQL only; RDS for PostgreSQL supports it on every class it offers.
export const BURSTABLE_FAMILIES: readonly string[] = ["t3", "t4g"];
export const STANDARD_FAMILIES: readonly string[] = [
  "m5",
  "m5d",
  "m6g",
  "m6gd",
  "m6i",
  "m6id",
  "m6idn",
  "m6in",
  "m7g",
  "m7i",
  "m8g",
  "m8gd",
  "r5",
  "r5b",
  "r5d",
  "r6g",
  "r6gd",
  "r6i",
  "r6id",
  "r6idn",
  "r6in",
  "r7g",
  "r7i",
  "r8g",
  "r8gd",
  "x2g",
  "x2iedn",
];
const INSTANCE_CLASS_PATTERN = new RegExp(
  `^db\\.((${BURSTABLE_FAMILIES.join("|")})\\.(micro|small|medium|large|xlarge|2xlarge)` +
    `|(${STANDARD_FAMILIES.join("|")})\\.(large|xlarge|[1-9][0-9]?xlarge|metal))$`,
);

export const instanceClassRule: TerraformRule<[string]> = {
  allowed: () =>
    `an RDS for PostgreSQL class: db.<family>.<size> with family ${BURSTABLE_FAMILIES.join("/")} ` +
    `(micro…2xlarge) or ${STANDARD_FAMILIES.join("/")} (large…NNxlarge, metal), e.g. db.t4g.micro, db.r7g.large`,
  isValid: (v) => matches(INSTANCE_CLASS_PATTERN, v),
  terraformCondition: (ref) => regexCondition(ref, INSTANCE_CLASS_PATTERN),
};

/**
 * PostgreSQL refuses to run a standby whose max_connections (and similar settings) are below its
 * primary's; RDS derives them from the class's memory, so a replica with less memory than the primary
 * is left in incompatible-parameters. The last two values are the classes' memory (undefined: not sized).
 */
export const replicaClassRule: Rule<[string, string, number | undefined, number | undefined]> = {
  allowed: (_replica, primary) =>
    `a class with at least the memory of the primary's (${primary ?? "instanceClass"}): a standby's max_connections, derived from memory, may not be below its primary's`,
  isValid: (_replica, _primary, replicaGib, primaryGib) => replicaGib === undefined || primaryGib === undefined || replicaGib >= primaryGib,
};

/** While alarms are on: a class with a size, whose memory the alarms' thresholds are derived from (not metal). */
export const alarmSizedClassRule: TerraformRule<[string]> = {
  allowed: () => "a class with a size, not metal, while alarms are on: the memory and connection alarms are derived from its memory",
  isValid: (v) => !v.endsWith(".metal"),
  terraformCondition: (ref) => `!endswith(${ref}, ".metal")`,
};

// RDS DB instance identifier: letters, digits, hyphens; starts with a letter; no "--"; no trailing
// "-". We also require lower case (RDS stores it lower-cased, so upper case only causes drift) and
// at most 48 characters, because the monitoring role's name appends "-rds-monitoring" within IAM's 64.
const IDENTIFIER_PATTERN = /^[a-z](-?[a-z0-9])*$/;
export const identifierRule: Rule<[string]> = {
  allowed: () => "1 to 48 lower-case letters, digits and single hyphens, starting with a letter and not ending with a hyphen",
  isValid: (v) => matches(IDENTIFIER_PATTERN, v) && v.length <= 48,
};

// PostgreSQL reserved key words (PostgreSQL docs, Appendix C, "reserved"): RDS refuses them as a
// database or master user name, and they would need quoting everywhere else.
const POSTGRES_RESERVED_WORDS = [
  "all",
  "analyse",
  "analyze",
  "and",
  "any",
  "array",
  "as",
  "asc",
  "asymmetric",
  "authorization",
  "binary",
  "both",
  "case",
  "cast",
  "check",
  "collate",
  "collation",
  "column",
  "concurrently",
  "constraint",
  "create",
  "cross",
  "current_catalog",
  "current_date",
  "current_role",
  "current_schema",
  "current_time",
  "current_timestamp",
  "current_user",
  "default",
  "deferrable",
  "desc",
  "distinct",
  "do",
  "else",
  "end",
  "except",
  "false",
  "fetch",
  "for",
  "foreign",
  "freeze",
  "from",
  "full",
  "grant",
  "group",
  "having",
  "ilike",
  "in",
  "initially",
  "inner",
  "intersect",
  "into",
  "is",
  "isnull",
  "join",
  "lateral",
  "leading",
  "left",
  "like",
  "limit",
  "localtime",
  "localtimestamp",
  "natural",
  "not",
  "notnull",
  "null",
  "offset",
  "on",
  "only",
  "or",
  "order",
  "outer",
  "overlaps",
  "placing",
  "primary",
  "references",
  "returning",
  "right",
  "select",
  "session_user",
  "similar",
  "some",
  "symmetric",
  "system_user",
  "table",
  "tablesample",
  "then",
  "to",
  "trailing",
  "true",
  "union",
  "unique",
  "user",
  "using",
  "variadic",
  "verbose",
  "when",
  "where",
  "window",
  "with",
];

// Lower case only: PostgreSQL folds unquoted names to lower case, so a mixed-case name would need
// quoting in every connection string and script.
const DATABASE_NAME_PATTERN = /^[a-z][a-z0-9_]{0,62}$/;
const RESERVED_DATABASE_NAMES = ["postgres", "template0", "template1", "rdsadmin"];
export const databaseNameRule: Rule<[string]> = {
  allowed: () =>
    "1 to 63 lower-case letters, digits and underscores, starting with a letter; not postgres, " +
    "template0, template1, rdsadmin or a PostgreSQL reserved word",
  isValid: (v) => matches(DATABASE_NAME_PATTERN, v) && !RESERVED_DATABASE_NAMES.includes(v) && !POSTGRES_RESERVED_WORDS.includes(v),
};

// RDS master user name for PostgreSQL: 1–16 letters, digits, underscores, starting with a letter;
// RDS blocks admin and rdsadmin; names starting pg_ or rds are reserved for system roles.
const MASTER_USERNAME_PATTERN = /^[a-z][a-z0-9_]{0,15}$/;
/** An existing PostgreSQL role to grant to: a plain identifier, never a system or RDS role. */
export const roleNameRule: Rule<[string]> = {
  allowed: () => "1 to 63 lower-case letters, digits and underscores, starting with a letter; not starting with pg_ or rds",
  isValid: (v) => typeof v === "string" && /^[a-z][a-z0-9_]{0,62}$/.test(v) && !v.startsWith("pg_") && !v.startsWith("rds"),
};

export const masterUsernameRule: Rule<[string]> = {
  allowed: () =>
    "1 to 16 lower-case letters, digits and underscores, starting with a letter; not admin, not " +
    "starting with pg_ or rds, not a PostgreSQL reserved word and not a role of the role model",
  isValid: (v) =>
    matches(MASTER_USERNAME_PATTERN, v) &&
    v !== "admin" &&
    !v.startsWith("pg_") &&
    !v.startsWith("rds") &&
    !v.startsWith("pulse_analytics_") &&
    !POSTGRES_RESERVED_WORDS.includes(v),
};

export const portRule: Rule<[number]> = {
  allowed: () => "a whole number from 1150 to 65535 (the RDS range for PostgreSQL)",
  isValid: (v) => isWholeNumberIn(v, 1150, 65535),
};

/** Any TCP port: the local end of a tunnel is not bound by the RDS range. */
export const portRangeRule: TerraformRule<[number]> = {
  allowed: () => "a whole number from 1 to 65535",
  isValid: (v) => isWholeNumberIn(v, 1, 65535),
  terraformCondition: (ref) => wholeNumberInCondition(ref, 1, 65535),
};

const CA_CERT_IDENTIFIERS = ["rds-ca-rsa2048-g1", "rds-ca-rsa4096-g1", "rds-ca-ecc384-g1"] as const;
export const caCertIdentifierRule: Rule<[string]> = {
  allowed: () => `one of ${CA_CERT_IDENTIFIERS.join(", ")} (the current RDS certificate authorities)`,
  isValid: (v) => (CA_CERT_IDENTIFIERS as readonly string[]).includes(v),
};

// --- storage (gp3) -----------------------------------------------------------------------

const GP3_MIN_GB = 20;
const GP3_MAX_GB = 65536;

export const allocatedStorageRule: TerraformRule<[number]> = {
  allowed: () => `a whole number of GiB from ${GP3_MIN_GB} to ${GP3_MAX_GB} (gp3 on RDS for PostgreSQL)`,
  isValid: (v) => isWholeNumberIn(v, GP3_MIN_GB, GP3_MAX_GB),
  terraformCondition: (ref) => wholeNumberInCondition(ref, GP3_MIN_GB, GP3_MAX_GB),
};

// AWS: "You must set the maximum storage threshold to at least 10% more than the current allocated
// storage." Compared as max*10 >= allocated*11 so no floating-point rounding can creep in.
export const maxAllocatedStorageRule: TerraformRule<[number, number]> = {
  allowed: (_max, allocated) =>
    `a whole number of GiB at least 10% above allocatedStorageGb` +
    (allocated === undefined ? "" : ` (${allocated}, so at least ${Math.ceil((allocated * 11) / 10)})`) +
    ` and at most ${GP3_MAX_GB}, because RDS storage autoscaling needs that headroom`,
  isValid: (max, allocated) => isWholeNumberIn(max, GP3_MIN_GB, GP3_MAX_GB) && max * 10 >= allocated * 11,
  terraformCondition: (max, allocated) => `${wholeNumberInCondition(max, GP3_MIN_GB, GP3_MAX_GB)} && ${max} * 10 >= ${allocated} * 11`,
};

// gp3 below 400 GiB has a fixed baseline (3,000 IOPS, 125 MiB/s) that cannot be set; from 400 GiB
// the volume is striped and IOPS 12,000–64,000 and throughput 500–4,000 MiB/s can be provisioned.
export const GP3_PROVISIONING_MIN_GB = 400;

export const iopsRule: TerraformRule<[number, number]> = {
  allowed: (_iops, allocated) =>
    `a whole number from 12000 to 64000, and only with allocatedStorageGb >= ${GP3_PROVISIONING_MIN_GB} ` +
    `(it is ${allocated}; below that gp3 has a fixed 3000 IOPS baseline)`,
  isValid: (iops, allocated) => isWholeNumberIn(iops, 12000, 64000) && allocated >= GP3_PROVISIONING_MIN_GB,
  terraformCondition: (iops, allocated) => `${wholeNumberInCondition(iops, 12000, 64000)} && ${allocated} >= ${GP3_PROVISIONING_MIN_GB}`,
};

// From 400 GiB RDS sets gp3 IOPS and throughput itself, but Terraform sends the IOPS it last read
// (3,000, from below 400 GiB) with every storage change, and RDS refuses it: "Invalid iops to storage
// (GB) ratio" (hashicorp/terraform-provider-aws#28382; internal/service/rds/instance.go sends Iops
// whenever allocated_storage changes). So from 400 GiB both are stated, in the same change.
export const provisionedStorageRule: TerraformRule<[number, number | undefined, number | undefined]> = {
  allowed: (allocated) =>
    `below ${GP3_PROVISIONING_MIN_GB} GiB, or from ${GP3_PROVISIONING_MIN_GB} GiB with iops (12000–64000) and ` +
    `storageThroughputMibps (500–4000) set in the same change (it is ${allocated} GiB; Terraform would otherwise send ` +
    `the stale 3000 IOPS of the smaller volume and RDS refuses it, hashicorp/terraform-provider-aws#28382)`,
  isValid: (allocated, iops, throughput) => allocated < GP3_PROVISIONING_MIN_GB || (iops !== undefined && throughput !== undefined),
  terraformCondition: (allocated, iops, throughput) => `${allocated} < ${GP3_PROVISIONING_MIN_GB} || (${iops} != null && ${throughput} != null)`,
};

export const storageThroughputRule: TerraformRule<[number, number | undefined]> = {
  allowed: (_mibps, iops) =>
    `a whole number of MiB/s from 500 to 4000, at most a quarter of iops (${iops ?? "unset"}); ` + `set iops together with it`,
  isValid: (mibps, iops) => iops !== undefined && isWholeNumberIn(mibps, 500, 4000) && mibps * 4 <= iops,
  terraformCondition: (mibps, iops) => `${iops} != null && ${wholeNumberInCondition(mibps, 500, 4000)} && ${mibps} * 4 <= coalesce(${iops}, 0)`,
};

// --- backups, monitoring, logs ------------------------------------------------------------

/** RDS keeps automated backups for 1–35 days (0 turns them off, which a system of record never does). */
const MAX_BACKUP_RETENTION_DAYS = 35;

/** The floor an owner sets on backup retention: a whole number of days RDS allows. */
export const minimumBackupRetentionRule: Rule<[number]> = {
  allowed: () => `a whole number of days from 1 to ${MAX_BACKUP_RETENTION_DAYS}`,
  isValid: (days) => isWholeNumberIn(days, 1, MAX_BACKUP_RETENTION_DAYS),
};

/** Backups are kept at least `minimum` days (the owner's floor: a week by default, a day for a throwaway environment). */
export const backupRetentionRule: TerraformRule<[number, number]> = {
  allowed: (_days, minimum = 1) =>
    `a whole number of days from ${minimum} to ${MAX_BACKUP_RETENTION_DAYS}` +
    (minimum > 1 ? ` (minimumBackupRetentionDays keeps at least ${minimum} days of point-in-time recovery)` : ""),
  isValid: (days, minimum) => isWholeNumberIn(days, minimum, MAX_BACKUP_RETENTION_DAYS),
  terraformCondition: (days, minimum) =>
    // `minimum` is a literal here: the floor never comes from a variable.
    wholeNumberInCondition(days, Number(minimum), MAX_BACKUP_RETENTION_DAYS),
};

/** RDS: "Each DB instance can have up to 15 read replicas" (CreateDBInstanceReadReplica, SourceDBInstanceIdentifier). */
export const MAX_READ_REPLICAS = 15;
export const readReplicaCountRule: Rule<[number]> = {
  allowed: () => `a whole number of read replicas from 0 to ${MAX_READ_REPLICAS} (RDS's limit per source instance)`,
  isValid: (v) => isWholeNumberIn(v, 0, MAX_READ_REPLICAS),
};

const MONITORING_INTERVALS_SECONDS = [0, 1, 5, 10, 15, 30, 60] as const;
export const monitoringIntervalRule: Rule<[number]> = {
  allowed: () => `one of ${MONITORING_INTERVALS_SECONDS.join(", ")} seconds (0 turns Enhanced Monitoring off)`,
  isValid: (v) => (MONITORING_INTERVALS_SECONDS as readonly number[]).includes(v),
};

/** Performance Insights keeps 7 days free, or whole months of 31 days up to 23, or 731 days. */
export const performanceInsightsRetentionRule: Rule<[number]> = {
  allowed: () => "7, a multiple of 31 up to 713 (1 to 23 months), or 731 days",
  isValid: (v) => v === 7 || v === 731 || (isWholeNumberIn(v, 31, 713) && v % 31 === 0),
};

/** CloudWatch Database Insights: "advanced" needs Performance Insights kept for 15 months (465 days). */
const DATABASE_INSIGHTS_MODES = ["standard", "advanced"] as const;
export type DatabaseInsightsMode = (typeof DATABASE_INSIGHTS_MODES)[number];
export const databaseInsightsModeRule: Rule<[string, boolean, number]> = {
  allowed: () => `"standard", or "advanced" with performanceInsights on and performanceInsightsRetentionDays >= 465`,
  isValid: (mode, performanceInsights, retentionDays) =>
    (DATABASE_INSIGHTS_MODES as readonly string[]).includes(mode) && (mode === "standard" || (performanceInsights && retentionDays >= 465)),
};

const LOG_RETENTION_DAYS = [1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288, 3653] as const;
export const logRetentionRule: Rule<[number]> = {
  allowed: () => `a CloudWatch Logs retention in days: ${LOG_RETENTION_DAYS.join(", ")}`,
  isValid: (v) => (LOG_RETENTION_DAYS as readonly number[]).includes(v),
};

export const slowStatementThresholdRule: Rule<[number]> = {
  allowed: () => "a whole number of milliseconds from 0 to 3600000, or -1 to log no slow statements",
  isValid: (v) => v === -1 || isWholeNumberIn(v, 0, 3_600_000),
};

/** A PostgreSQL or RDS parameter name: lower case, digits, "_" and "." (rds.force_ssl, work_mem). */
export const parameterNameRule: Rule<[string]> = {
  allowed: () => 'a PostgreSQL parameter name: lower-case letters, digits, "_" and "." (e.g. "work_mem", "rds.logical_replication")',
  isValid: (name) => /^[a-z][a-z0-9_]*(\.[a-z][a-z0-9_]*)*$/.test(name) && name.length <= 255,
};

/** The parameters the construct owns: TLS stays on, and the slow-statement threshold has its own prop. */
export const parameterValueRule: Rule<[string, string]> = {
  allowed: (_value, name) =>
    name === "rds.force_ssl"
      ? '"1": the database accepts TLS connections only'
      : name === "log_min_duration_statement"
        ? "not set here: use slowStatementThresholdMs"
        : "a non-empty string of at most 4096 characters",
  isValid: (value, name) =>
    typeof value === "string" &&
    value.length > 0 &&
    value.length <= 4096 &&
    (name !== "rds.force_ssl" || value === "1") &&
    name !== "log_min_duration_statement",
};

export const parameterApplyMethodRule: Rule<[string]> = {
  allowed: () => '"immediate" or "pending-reboot" (for a static parameter)',
  isValid: (method) => method === "immediate" || method === "pending-reboot",
};

export const secretRecoveryWindowRule: Rule<[number]> = {
  allowed: () => "0 (delete at once) or a whole number of days from 7 to 30 (the Secrets Manager range)",
  isValid: (v) => v === 0 || isWholeNumberIn(v, 7, 30),
};

export const passwordRotationsRule: Rule<[number]> = {
  allowed: () => "a whole number from 0 (never rotated) to 1000000, raised by one per rotation",
  isValid: (v) => isWholeNumberIn(v, 0, 1_000_000),
};

// "hh24:mi-hh24:mi" (UTC), at least 30 minutes long, as RDS requires of the backup window.
const BACKUP_WINDOW_PATTERN = /^([01][0-9]|2[0-3]):[0-5][0-9]-([01][0-9]|2[0-3]):[0-5][0-9]$/;
function windowMinutes(window: string): number {
  // Called on a window BACKUP_WINDOW_PATTERN accepted: two "hh:mm" parts.
  const [start = 0, end = 0] = window.split("-").map((t) => {
    const [h = 0, m = 0] = t.split(":").map(Number);
    return h * 60 + m;
  });
  return (end - start + 24 * 60) % (24 * 60);
}
export const backupWindowRule: Rule<[string]> = {
  allowed: () => 'a daily UTC window "hh:mm-hh:mm" of at least 30 minutes, e.g. "02:00-03:00"',
  isValid: (v) => matches(BACKUP_WINDOW_PATTERN, v) && windowMinutes(v) >= 30,
};

const MAINTENANCE_WINDOW_PATTERN =
  /^(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]-(mon|tue|wed|thu|fri|sat|sun):([01][0-9]|2[0-3]):[0-5][0-9]$/;
export const maintenanceWindowRule: Rule<[string]> = {
  allowed: () => 'a weekly UTC window "ddd:hh:mm-ddd:hh:mm", e.g. "sun:04:00-sun:05:00"',
  isValid: (v) => matches(MAINTENANCE_WINDOW_PATTERN, v),
};

const DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"];
const MINUTES_PER_DAY = 24 * 60;
const MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY;

/** A weekly window as [start, end) minutes since Monday 00:00 UTC; `end` may pass the week's end. */
function weeklyInterval(window: string): [number, number] {
  // Called on a window MAINTENANCE_WINDOW_PATTERN accepted: two "ddd:hh:mm" parts.
  const [from = 0, to = 0] = window.split("-").map((part) => {
    const [day = "", hours = "0", minutes = "0"] = part.split(":");
    return DAYS.indexOf(day) * MINUTES_PER_DAY + Number(hours) * 60 + Number(minutes);
  });
  return [from, from + ((to - from + MINUTES_PER_WEEK) % MINUTES_PER_WEEK)];
}

/** RDS refuses a backup window that overlaps the maintenance window. */
export const windowsApartRule: Rule<[string, string]> = {
  allowed: (_backup, maintenance) =>
    `a backup window that does not overlap preferredMaintenanceWindow (${maintenance}); RDS refuses overlapping windows`,
  isValid: (backup, maintenance) => {
    const [start, end] = weeklyInterval(maintenance);
    const backupStart = Number(backup.slice(0, 2)) * 60 + Number(backup.slice(3, 5));
    const backupLength = windowMinutes(backup);
    // The daily backup window placed on every day from the Sunday before this week to the end of the
    // next: that covers a backup crossing midnight into Monday and a maintenance window wrapping past Sunday.
    for (let day = -1; day < 14; day++) {
      const from = day * MINUTES_PER_DAY + backupStart;
      if (from < end && start < from + backupLength) return false;
    }
    return true;
  },
};

// A major upgrade deferred to the maintenance window leaves the instance on the old family's
// parameter group, so Terraform's delete of that group (create_before_destroy) fails with
// InvalidDBParameterGroupState on every apply until the window.
export const majorUpgradeAppliedImmediatelyRule: Rule<[boolean, boolean]> = {
  allowed: () =>
    "false, or true together with applyImmediately: true (a major upgrade deferred to the maintenance window keeps " +
    "the old parameter group attached, and every apply until then fails deleting it)",
  isValid: (allowMajorVersionUpgrade, applyImmediately) => !allowMajorVersionUpgrade || applyImmediately === true,
};

// IAM role names: 1–64 of letters, digits and +=,.@_- (IAM, "IAM object quotas").
const IAM_ROLE_NAME_PATTERN = /^[A-Za-z0-9+=,.@_-]{1,64}$/;
export const iamRoleNameRule: Rule<[string]> = {
  allowed: () => "an IAM role name of the account, 1 to 64 letters, digits and +=,.@_- (a name, not an ARN)",
  isValid: (v) => matches(IAM_ROLE_NAME_PATTERN, v),
};

export const iamRoleNamesRule: Rule<[readonly string[]]> = {
  allowed: () => "a list of IAM role names of the account, 1 to 64 letters, digits and +=,.@_- each (a name, not an ARN)",
  isValid: (v) => Array.isArray(v) && v.every((name) => Token.isUnresolved(name) || matches(IAM_ROLE_NAME_PATTERN, name)),
};

const KMS_KEY_ARN_PATTERN = /^arn:aws[a-z-]*:kms:[a-z0-9-]+:[0-9]{12}:key\/[0-9a-zA-Z-]+$/;
export const iamRoleArnRule: Rule<[string]> = {
  allowed: () => "an IAM role ARN, arn:aws:iam::<account>:role/<name>",
  isValid: (v) => typeof v === "string" && /^arn:aws[a-z-]*:iam::\d{12}:role\/[\w+=,.@/-]{1,512}$/.test(v),
};

export const snsTopicArnRule: Rule<[string]> = {
  allowed: () => "an SNS topic ARN, arn:aws:sns:<region>:<account>:<name>",
  isValid: (v) => typeof v === "string" && /^arn:aws[a-z-]*:sns:[a-z0-9-]+:\d{12}:[A-Za-z0-9_-]{1,256}(\.fifo)?$/.test(v),
};

export const kmsKeyArnRule: Rule<[string]> = {
  allowed: () => "a KMS key ARN, arn:aws:kms:<region>:<account>:key/<key-id> (an alias is not accepted by RDS for every setting)",
  isValid: (v) => matches(KMS_KEY_ARN_PATTERN, v),
};

// --- network ----------------------------------------------------------------------------

const VPC_ID_PATTERN = /^vpc-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SUBNET_ID_PATTERN = /^subnet-([0-9a-f]{8}|[0-9a-f]{17})$/;
const SECURITY_GROUP_ID_PATTERN = /^sg-([0-9a-f]{8}|[0-9a-f]{17})$/;

export const vpcIdRule: TerraformRule<[string]> = {
  allowed: () => "an existing VPC id, vpc- followed by 8 or 17 hex digits",
  isValid: (v) => matches(VPC_ID_PATTERN, v),
  terraformCondition: (ref) => regexCondition(ref, VPC_ID_PATTERN),
};

/** A DB subnet group's name as the aws provider accepts it (internal/service/rds, validSubnetGroupName). */
const DB_SUBNET_GROUP_NAME_PATTERN = /^[0-9a-z_ .-]{1,255}$/;
export const dbSubnetGroupNameRule: Rule<[string]> = {
  allowed: () => 'the name of an existing DB subnet group: 1 to 255 lower-case letters, digits, spaces, ".", "_" and "-", not "default"',
  isValid: (v) => matches(DB_SUBNET_GROUP_NAME_PATTERN, v) && v.toLowerCase() !== "default",
};

/** The instance's subnets come from one place: subnets for a group the construct creates, or an existing group. */
export const oneSubnetSourceRule: Rule<[readonly string[] | undefined, string | undefined]> = {
  allowed: () => "exactly one of subnetIds (the construct creates a DB subnet group on them) and dbSubnetGroupName (an existing group)",
  isValid: (subnetIds, groupName) => (subnetIds === undefined) !== (groupName === undefined),
};

export const subnetIdsRule: TerraformRule<[readonly string[]]> = {
  allowed: () =>
    "at least 2 distinct subnet ids (subnet- followed by 8 or 17 hex digits) in different availability zones; " +
    "an RDS subnet group must span two zones",
  isValid: (v) => Array.isArray(v) && v.length >= 2 && new Set(v).size === v.length && v.every((id) => matches(SUBNET_ID_PATTERN, id)),
  terraformCondition: (ref) =>
    `length(${ref}) >= 2 && length(distinct(${ref})) == length(${ref}) && ${everyElement(ref, (v) => regexCondition(v, SUBNET_ID_PATTERN))}`,
};

export const allowedSecurityGroupIdsRule: TerraformRule<[readonly string[]]> = {
  allowed: () => "distinct security group ids, sg- followed by 8 or 17 hex digits",
  isValid: (v) => Array.isArray(v) && new Set(v).size === v.length && v.every((id) => matches(SECURITY_GROUP_ID_PATTERN, id)),
  terraformCondition: (ref) =>
    `length(distinct(${ref})) == length(${ref}) && ${everyElement(ref, (v) => regexCondition(v, SECURITY_GROUP_ID_PATTERN))}`,
};

// A CIDR block as the AWS provider accepts it: a network address in canonical form (host bits zero,
// lower-case and compressed IPv6, no leading zeros, no IPv4-mapped IPv6), with a prefix of at least
// /1, so the database is never open to the whole internet (0.0.0.0/0, ::/0). Terraform's
// `cidrsubnet(v, 0, 0)` returns that canonical form, so "equals its canonical form" is the rule on both sides.
function isCanonicalCidr(cidr: unknown): boolean {
  if (typeof cidr !== "string" || !/^[^/]+\/\d{1,3}$/.test(cidr)) return false;
  const [address = "", prefixText = ""] = cidr.split("/");
  const prefix = Number(prefixText);
  if (ipaddr.IPv4.isValidFourPartDecimal(address)) {
    return prefix >= 1 && prefix <= 32 && `${ipaddr.IPv4.networkAddressFromCIDR(cidr).toString()}/${prefix}` === cidr;
  }
  if (!ipaddr.IPv6.isValid(address) || address.includes(".") || ipaddr.IPv6.parse(address).isIPv4MappedAddress()) return false;
  return prefix >= 1 && prefix <= 128 && `${ipaddr.IPv6.networkAddressFromCIDR(cidr).toRFC5952String()}/${prefix}` === cidr;
}

export const allowedCidrBlocksRule: TerraformRule<[readonly string[]]> = {
  allowed: () =>
    "distinct IPv4 or IPv6 network addresses in canonical form (host bits zero, lower-case IPv6) with a prefix " +
    "of at least /1, never 0.0.0.0/0 or ::/0, e.g. 10.20.0.0/16 or 2001:db8::/56",
  isValid: (v) => Array.isArray(v) && new Set(v).size === v.length && v.every(isCanonicalCidr),
  terraformCondition: (ref) =>
    `length(distinct(${ref})) == length(${ref}) && ` + everyElement(ref, (v) => `try(cidrsubnet(${v}, 0, 0), "") == ${v} && !endswith(${v}, "/0")`),
};

/** With no admitted source the database, and the deploy that configures it, could not be reached. */
export const someIngressRule: TerraformRule<[readonly string[], readonly string[]]> = {
  allowed: () =>
    "at least one entry in allowedSecurityGroupIds or allowedCidrBlocks (the backend's security group, " +
    "and the deploy host's, so the postgresql provider can reach the database)",
  isValid: (groups, cidrs) => groups.length + cidrs.length > 0,
  terraformCondition: (groups, cidrs) => `length(${groups}) + length(${cidrs}) > 0`,
};
