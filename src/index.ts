// The infrastructure's entry point, `pulse-analytics-postgres`: the constructs, their props and
// validation, and the role model they share. The stacks are `pulse-analytics-postgres/stacks`; the
// backend's pool and data path `pulse-analytics-postgres/client`.

export { PulseAnalyticsPostgres } from "./constructs/pulse-analytics-postgres";
export type { PulseAnalyticsInstanceConnection } from "./constructs/pulse-analytics-postgres";
export { PulseAnalyticsDatabase } from "./constructs/pulse-analytics-database";
export type { PulseAnalyticsDatabaseProps } from "./constructs/pulse-analytics-database";
export type {
  DatabaseParameter,
  PulseAnalyticsPostgresProps,
  PulseAnalyticsPostgresSettings,
  PulseAnalyticsNetworkProps,
} from "./constructs/pulse-analytics-postgres-props";
export { validatePulseAnalyticsPostgresProps } from "./constructs/pulse-analytics-postgres-props";
export { InvalidInputError } from "./config/rules";
export { PulseAnalyticsError } from "./support/errors";
export type { EnvironmentName } from "./config/rules";
export { ROLES, GRANTS, ANALYTICS_SCHEMA, PASSWORD_SLOTS, slotRoleName, activeSlot } from "./roles/role-model";
