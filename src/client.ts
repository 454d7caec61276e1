// The backend's entry point, `pulse-analytics-postgres/client`: the connection pool (TLS, IAM tokens,
// a failover-proof error listener), the retry helper, migrations, and the analytics data path. It
// loads pg and its helpers only, never cdktf or a Terraform provider (a test holds it to that).

export { PulseAnalyticsError } from "./support/errors";
export { ConnectionSettingsError, createPool, poolConfig } from "./db/pool";
export type { PulseAnalyticsPoolSettings } from "./db/pool";
export { isTransientConnectionError, withConnectionRetry } from "./db/retry";
export type { ConnectionRetryOptions } from "./db/retry";
export { migrate, MIGRATIONS_DIR } from "./db/migrate";
export type { MigrateOptions } from "./db/migrate";
export * from "./analytics";
