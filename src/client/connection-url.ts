// Builds postgresql:// connection URLs with every component percent-encoded, so any password,
// user or database name survives the trip through an environment variable and back.

export interface ConnectionSettings {
  readonly user: string;
  /** Omitted for IAM authentication, where the password is a token fetched at connect time. */
  readonly password?: string;
  readonly host: string;
  readonly port: number;
  readonly database: string;
  /** Query parameters, e.g. { sslmode: "verify-full", sslrootcert: "/path/ca.pem" }. */
  readonly params?: Record<string, string>;
}

/**
 * Percent-encodes everything but letters, digits and - . _ ~ : encodeURIComponent leaves ! ' ( ) *,
 * which break a dotenv line sourced by a shell, and URLSearchParams writes a space as "+", which
 * libpq (psql) does not decode.
 */
function encodeComponent(value: string): string {
  return encodeURIComponent(value).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);
}

export function buildPostgresUrl(settings: ConnectionSettings): string {
  const auth = encodeComponent(settings.user) + (settings.password === undefined ? "" : `:${encodeComponent(settings.password)}`);
  // An IPv6 literal host needs brackets in a URL.
  const host = settings.host.includes(":") ? `[${settings.host}]` : encodeComponent(settings.host);
  const query = Object.entries(settings.params ?? {})
    .map(([key, value]) => `${encodeComponent(key)}=${encodeComponent(value)}`)
    .join("&");
  return `postgresql://${auth}@${host}:${settings.port}/${encodeComponent(settings.database)}${query ? `?${query}` : ""}`;
}
