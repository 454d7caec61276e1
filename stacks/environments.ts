// The dev, staging and prod configurations of the PULSE Analytics Postgres: sizing and protection
// per environment, each choice with its reason. Each is usable as construct props as it is.

import type { PulseAnalyticsNetworkProps, PulseAnalyticsPostgresSettings } from "../src/constructs/pulse-analytics-postgres-props";
import type { EnvironmentName } from "../src/config/rules";

/**
 * One environment: its name, and the construct's settings but the identifier (the stacks derive it
 * from the name: instanceIdentifier) and the network, which may be filled in here or left to the
 * stack's Terraform variables (`TF_VAR_pulse_analytics_db_vpc_id`, …) at plan time.
 */
export type EnvironmentConfig = { readonly environment: EnvironmentName } & Omit<PulseAnalyticsPostgresSettings, "identifier"> &
  Partial<PulseAnalyticsNetworkProps>;

/** The AWS region every environment deploys to unless `TF_VAR_aws_region` says otherwise. */
export const DEFAULT_AWS_REGION = "eu-central-1";

export const environments: Record<EnvironmentName, EnvironmentConfig> = {
  dev: {
    environment: "dev",
    // Burstable Graviton, the cheapest class that runs PostgreSQL 17 comfortably for a few developers.
    instanceClass: "db.t4g.micro",
    // The gp3 minimum; autoscaling to 50 GiB covers test data without paying for it up front.
    allocatedStorageGb: 20,
    maxAllocatedStorageGb: 50,
    // One zone: an outage in dev costs an afternoon, a standby would double the bill.
    multiAz: false,
    // A day of point-in-time recovery is enough to undo a bad migration test. Staging and prod keep
    // the construct's floor of a week.
    backupRetentionDays: 1,
    minimumBackupRetentionDays: 1,
    // dev is torn down and rebuilt freely: no protection, no final snapshot, secrets deleted at once.
    deletionProtection: false,
    skipFinalSnapshot: true,
    secretRecoveryWindowDays: 0,
    // Nothing in dev needs query history or OS metrics; both stay off to keep the plan minimal.
    performanceInsights: false,
    monitoringIntervalSeconds: 0,
    logRetentionDays: 7,
    // Nobody is paged for dev: no events topic and no alarms (turn them on to try them).
    eventNotifications: false,
    alarms: false,
    // Changes land at once: nobody waits for a maintenance window in dev.
    applyImmediately: true,
    // Raised by one per password rotation, in a reviewed change (README, "Rotating passwords").
    passwordRotations: { migrator: 0, app: 0, readonly: 0 },
  },
  staging: {
    environment: "staging",
    // The shape of prod (Multi-AZ, protected, monitored) on a smaller burstable class, so failover,
    // upgrades and migrations are rehearsed against the same topology at a fraction of the price.
    instanceClass: "db.t4g.medium",
    allocatedStorageGb: 50,
    maxAllocatedStorageGb: 200,
    multiAz: true,
    backupRetentionDays: 7,
    deletionProtection: true,
    skipFinalSnapshot: false,
    performanceInsights: true,
    performanceInsightsRetentionDays: 7,
    monitoringIntervalSeconds: 60,
    logRetentionDays: 30,
    // One replica of the same class, so the readonly role's move to a replica (db:url), replication
    // lag alarms and hot_standby_feedback are rehearsed before prod; single-AZ, like prod's.
    readReplicas: { count: 1 },
    // Raised by one per password rotation, in a reviewed change (README, "Rotating passwords").
    passwordRotations: { migrator: 0, app: 0, readonly: 0 },
  },
  prod: {
    environment: "prod",
    // Memory-optimised: the longitudinal queries read a learner's history by index, and the hot part
    // of session_events and user_skill_agg should stay in the 16 GiB of RAM of an r7g.large.
    instanceClass: "db.r7g.large",
    // 100 GiB up front, autoscaling to 1 TiB: years of session events without a storage ticket.
    allocatedStorageGb: 100,
    maxAllocatedStorageGb: 1000,
    // The system of record: a synchronous standby in a second zone, failover in about a minute.
    multiAz: true,
    // Two weeks of point-in-time recovery, to find and undo a data bug noticed late.
    backupRetentionDays: 14,
    deletionProtection: true,
    skipFinalSnapshot: false,
    secretRecoveryWindowDays: 30,
    // Query history for a month, OS metrics every 15 s: enough to diagnose a slow week.
    performanceInsights: true,
    performanceInsightsRetentionDays: 31,
    monitoringIntervalSeconds: 15,
    logRetentionDays: 90,
    // Dashboards and analysts read from a replica of the primary's class, never from the system of
    // record. Single-AZ: if its zone fails, readonly clients move to the primary (db:url --primary)
    // until RDS replaces it; a standby for a rebuildable copy would double its price.
    readReplicas: { count: 1 },
    // Raised by one per password rotation, in a reviewed change (README, "Rotating passwords").
    passwordRotations: { migrator: 0, app: 0, readonly: 0 },
  },
};
