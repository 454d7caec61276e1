// The one way to connect to the PULSE Analytics Postgres, for the backend and this repository's
// scripts: a `pg` Pool from PULSE_ANALYTICS_DATABASE_URL (or discrete settings), with TLS verified
// against the RDS CA bundle (verify-full) and, optionally, RDS IAM authentication tokens.

import { existsSync, readFileSync } from "node:fs";
import { Pool, PoolConfig } from "pg";
import { parse } from "pg-connection-string";
import { ConnectionSettingsError } from "./connection-settings-error";
import { regionOfSecretArn } from "./role-secret";
import { clientReadingSecret, SecretCredentials, SecretCredentialsSettings } from "./secret-credentials";

export { ConnectionSettingsError };

export interface PulseAnalyticsPoolSettings {
  /**
   * A postgresql:// URL; its sslmode/sslrootcert are honoured.
   * @default process.env.PULSE_ANALYTICS_DATABASE_URL, unless `host` is given
   */
  readonly connectionString?: string;
  /** Discrete settings, used when there is no URL. */
  readonly host?: string;
  /** @default 5432 */
  readonly port?: number;
  readonly database?: string;
  readonly user?: string;
  readonly password?: string;
  /**
   * CA bundle to verify the server certificate and host name against (verify-full). Overrides the
   * URL's sslmode and sslrootcert.
   * @default the URL's sslrootcert (with its sslmode); for a URL without sslmode,
   *   process.env.PULSE_ANALYTICS_DB_CA_FILE; otherwise no TLS (a local database)
   */
  readonly caFile?: string;
  /**
   * Authenticate with short-lived RDS IAM tokens instead of a password (the role must be granted rds_iam).
   * @default undefined (password authentication)
   */
  readonly iam?: { readonly region: string };
  /**
   * Read the user and password from a login role's Secrets Manager secret each time a connection
   * opens (the read is reused for `cacheTtlMs`), instead of from the URL or `user`/`password`: a
   * password rotation then reaches a running pool with no restart and no failed connection (README,
   * "Rotating passwords"). The URL still gives host, port, database and TLS.
   * @default `{ secretArn: process.env.PULSE_ANALYTICS_DATABASE_SECRET_ARN }` when that is set and the
   *   URL too comes from the environment; otherwise none (the URL's or the settings' user and password)
   */
  readonly credentialsSecret?: SecretCredentialsSettings;
  /** Other pg Pool options (max, idleTimeoutMillis, …); they override the defaults below. */
  readonly pool?: Omit<PoolConfig, "connectionString" | "host" | "port" | "database" | "user" | "password" | "ssl">;
  /**
   * Told, in one line without URL or password, when the server ends an idle connection (a failover,
   * a restart): the pool has dropped that client and connects afresh for the next query.
   * @default console.warn
   */
  readonly onIdleConnectionLost?: (line: string) => void;
}

/**
 * Connection defaults: give up connecting after 10 s instead of waiting forever on a host that does
 * not answer, and keep idle connections alive so a dead peer is noticed by TCP (keepalive), not by
 * the next query.
 */
const POOL_DEFAULTS: PoolConfig = { connectionTimeoutMillis: 10_000, keepAlive: true, keepAliveInitialDelayMillis: 10_000 };

/** The pg configuration createPool uses; exported so tests and tools can inspect it without connecting. */
export function poolConfig(settings: PulseAnalyticsPoolSettings = {}, env: NodeJS.ProcessEnv = process.env): PoolConfig {
  const url = settings.connectionString ?? (settings.host ? undefined : env.PULSE_ANALYTICS_DATABASE_URL);
  if (!url && !settings.host) {
    throw new ConnectionSettingsError(
      "PULSE_ANALYTICS_DATABASE_URL is not set: set it (npm start prints the local one, npm run db:url -- <env> a deployed one) or pass host, database and user.",
    );
  }
  const fromUrl = url ? parseUrl(url) : {};
  const config: PoolConfig = {
    ...POOL_DEFAULTS,
    ...settings.pool,
    host: settings.host ?? fromUrl.host,
    port: settings.port ?? fromUrl.port ?? 5432,
    database: settings.database ?? fromUrl.database,
    user: settings.user ?? fromUrl.user,
    password: settings.password ?? fromUrl.password,
    ssl: fromUrl.ssl,
  };
  // Which CA, in order: the caFile setting; the URL's own sslmode/sslrootcert (already in fromUrl.ssl);
  // PULSE_ANALYTICS_DB_CA_FILE only for a URL that says nothing about TLS. sslmode=disable stays plain.
  const caFile = settings.caFile ?? (fromUrl.sslmode === undefined ? env.PULSE_ANALYTICS_DB_CA_FILE || undefined : undefined);
  if (caFile) {
    if (!existsSync(caFile)) {
      throw new ConnectionSettingsError(`CA bundle ${caFile} does not exist: download it (see README, "TLS") or fix PULSE_ANALYTICS_DB_CA_FILE.`);
    }
    // verify-full: the chain must lead to this CA and the certificate must name the host.
    config.ssl = { ca: readFileSync(caFile, "utf8"), rejectUnauthorized: true };
  }
  if (settings.iam) {
    if (!config.ssl) {
      throw new ConnectionSettingsError(
        "RDS IAM authentication needs TLS: give a CA bundle (caFile or PULSE_ANALYTICS_DB_CA_FILE) or sslmode=verify-full in the URL.",
      );
    }
    const { host, port, user } = config;
    if (!host || !user) throw new ConnectionSettingsError("RDS IAM authentication needs the host and the user.");
    const region = settings.iam.region;
    // A function: pg calls it for every new connection, so each gets a fresh 15-minute token.
    config.password = async () => {
      const { Signer } = await import("@aws-sdk/rds-signer");
      return new Signer({ hostname: host, port: Number(port), username: user, region }).getAuthToken();
    };
  }
  // The secret from the environment goes with the URL from the environment: a URL given in code
  // (a script, db:url --check) means exactly that URL's credentials.
  const urlFromEnvironment = settings.connectionString === undefined && !settings.host;
  const credentialsSecret =
    settings.credentialsSecret ??
    (urlFromEnvironment && env.PULSE_ANALYTICS_DATABASE_SECRET_ARN ? { secretArn: env.PULSE_ANALYTICS_DATABASE_SECRET_ARN } : undefined);
  if (credentialsSecret) {
    if (settings.iam) {
      throw new ConnectionSettingsError(
        "credentialsSecret and iam are two ways to sign in: a role uses one (IAM tokens, or the password in its secret).",
      );
    }
    const field = settings.credentialsSecret ? "credentialsSecret.secretArn" : "PULSE_ANALYTICS_DATABASE_SECRET_ARN";
    if (regionOfSecretArn(credentialsSecret.secretArn) === undefined) {
      throw new ConnectionSettingsError(
        `${field} ${JSON.stringify(credentialsSecret.secretArn)} is not a Secrets Manager secret ARN (arn:aws:secretsmanager:<region>:<account>:secret:<name>): use the output pulse_analytics_db_<role>_secret_arn.`,
      );
    }
    const ttl = credentialsSecret.cacheTtlMs;
    if (ttl !== undefined && !(Number.isFinite(ttl) && ttl >= 0)) {
      throw new ConnectionSettingsError(`credentialsSecret.cacheTtlMs ${ttl} is not allowed: give milliseconds, 0 or more (default 300000).`);
    }
    // pg reads the user when it opens a connection, before any password callback: a client class
    // reads both from the secret first.
    config.Client = clientReadingSecret(new SecretCredentials(credentialsSecret));
    delete config.user;
    delete config.password;
  }
  return config;
}

/**
 * A pg Pool for the PULSE Analytics Postgres (see poolConfig for the settings). It survives the
 * database's normal life: when the server ends idle connections (failover, reboot, resize, minor
 * upgrade), the pool drops them and reports one line, instead of an unheard "error" event ending the
 * process. A query in flight at that moment fails (57P01 or "Connection terminated"); wrap idempotent
 * work in withConnectionRetry (src/client/retry.ts) to run it again once the database is back.
 */
export function createPool(settings: PulseAnalyticsPoolSettings = {}): Pool {
  const pool = new Pool(poolConfig(settings));
  const report = settings.onIdleConnectionLost ?? ((line: string) => console.warn(line));
  pool.on("error", (error: Error & { code?: string }) => {
    report(`pulse-analytics pool: an idle connection was lost (${error.code ?? "no code"}: ${error.message}); the next query opens a new one.`);
  });
  // The pool listens on an idle client and the caller on a checked-out one, but a connection handed out
  // as the server dies can carry its "ready" and its 57P01 in one read: the error comes before the
  // caller can listen. Every client keeps a listener for its life; the query that follows fails anyway.
  pool.on("connect", (client) => client.on("error", () => undefined));
  return pool;
}

function parseUrl(url: string): {
  host?: string;
  port?: number;
  database?: string;
  user?: string;
  password?: string;
  ssl?: PoolConfig["ssl"];
  sslmode?: string;
} {
  let parsed: ReturnType<typeof parse>;
  let sslmode: string | undefined;
  try {
    const params = new URL(url).searchParams;
    sslmode = params.get("sslmode") ?? undefined;
    const rootCert = params.get("sslrootcert");
    if (rootCert && !existsSync(rootCert)) {
      throw new ConnectionSettingsError(
        `the URL's sslrootcert ${rootCert} does not exist: download the CA bundle (see README, "TLS") or fix the path.`,
      );
    }
    parsed = parse(url);
  } catch (error) {
    if (error instanceof ConnectionSettingsError) throw error;
    // Never echo the URL: it holds the password.
    throw new ConnectionSettingsError("the database URL is not a valid postgresql:// URL (its text is not shown: it may hold a password).");
  }
  return {
    host: parsed.host ?? undefined,
    port: parsed.port ? Number(parsed.port) : undefined,
    database: parsed.database ?? undefined,
    user: parsed.user,
    password: parsed.password,
    ssl: parsed.ssl as PoolConfig["ssl"],
    sslmode,
  };
}
