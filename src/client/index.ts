// The backend's entry point, `pulse-analytics-postgres/client`: the connection pool (TLS, IAM tokens,
// a failover-proof error listener), the retry helper, migrations, and the analytics data path. It
// loads pg and its helpers only, never cdktf or a Terraform provider (a test holds it to that).

export { PulseAnalyticsError } from "../support/errors";
export { ConnectionSettingsError, createPool, poolConfig } from "./pool";
export type { PulseAnalyticsPoolSettings } from "./pool";
export { isTransientConnectionError, withConnectionRetry } from "./retry";
export type { ConnectionRetryOptions } from "./retry";
export { migrate, MIGRATIONS_DIR } from "./migrate";
export type { MigrateOptions } from "./migrate";
export * from "../analytics";
