// The public API of the PULSE Analytics Postgres package: the construct, its props, the stack class,
// the environment configs, and the role model they share.

export { PulseAnalyticsPostgres } from "./constructs/pulse-analytics-postgres";
export type { PulseAnalyticsInstanceConnection } from "./constructs/pulse-analytics-postgres";
export { PulseAnalyticsDatabase } from "./constructs/pulse-analytics-database";
export type { PulseAnalyticsDatabaseProps } from "./constructs/pulse-analytics-database";
export type {
  DatabaseParameter,
  PulseAnalyticsPostgresProps,
  PulseAnalyticsPostgresSizing,
  PulseAnalyticsNetworkProps,
} from "./constructs/pulse-analytics-postgres-props";
export { validatePulseAnalyticsPostgresProps } from "./constructs/pulse-analytics-postgres-props";
export { PulseAnalyticsInstanceStack } from "../stacks/pulse-analytics-instance-stack";
export type { PulseAnalyticsStackProps } from "../stacks/stack-foundation";
export { PulseAnalyticsDatabaseStack } from "../stacks/pulse-analytics-database-stack";
export { PulseAnalyticsBootstrapStack } from "../stacks/bootstrap-stack";
export type { S3StateLocation } from "../stacks/stack-foundation";
export { environments, DEFAULT_AWS_REGION } from "./config/environments";
export type { EnvironmentConfig } from "./config/environments";
export { InvalidInputError } from "./config/rules";
export { PulseAnalyticsError } from "./support/errors";
export type { EnvironmentName } from "./config/rules";
export { ROLES, GRANTS, ANALYTICS_SCHEMA } from "./db/role-model";
