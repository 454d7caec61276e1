// The stacks' entry point, `pulse-analytics-postgres/stacks`: the bootstrap, instance and database
// stacks, the app that adds them all, and the dev, staging and prod configurations they are built from.

export { environments, DEFAULT_AWS_REGION } from "./environments";
export type { EnvironmentConfig } from "./environments";
export { PulseAnalyticsBootstrapStack } from "./bootstrap-stack";
export { PulseAnalyticsInstanceStack } from "./pulse-analytics-instance-stack";
export { PulseAnalyticsDatabaseStack } from "./pulse-analytics-database-stack";
export { environmentSettings, environmentTags, instanceIdentifier } from "./stack-foundation";
export type { PulseAnalyticsStackProps, S3StateLocation } from "./stack-foundation";
export { stateLocationFromEnvironment, synthesizePulseAnalytics } from "./app";
export type { PulseAnalyticsAppOptions } from "./app";
