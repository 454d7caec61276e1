// The public API of the PULSE Analytics Postgres package: the construct, its props, the stack class,
// the environment configs, and the role model they share.

export { PulseAnalyticsPostgres } from "./constructs/pulse-analytics-postgres";
export type {
  PulseAnalyticsPostgresProps,
  PulseAnalyticsPostgresSizing,
  PulseAnalyticsNetworkProps,
} from "./constructs/pulse-analytics-postgres-props";
export { validatePulseAnalyticsPostgresProps } from "./constructs/pulse-analytics-postgres-props";
export { PulseAnalyticsStack } from "../stacks/pulse-analytics-stack";
export type { PulseAnalyticsStackProps, S3StateLocation } from "../stacks/pulse-analytics-stack";
export { environments, DEFAULT_AWS_REGION } from "./config/environments";
export type { EnvironmentConfig } from "./config/environments";
export { InvalidInputError } from "./config/rules";
export type { EnvironmentName } from "./config/rules";
export { ROLES, GRANTS, ANALYTICS_SCHEMA } from "./db/role-model";
