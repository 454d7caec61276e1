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

export function buildPostgresUrl(settings: ConnectionSettings): string {
  const auth =
    encodeURIComponent(settings.user) + (settings.password === undefined ? "" : `:${encodeURIComponent(settings.password)}`);
  // An IPv6 literal host needs brackets in a URL.
  const host = settings.host.includes(":") ? `[${settings.host}]` : encodeURIComponent(settings.host);
  const query = new URLSearchParams(settings.params ?? {}).toString();
  return `postgresql://${auth}@${host}:${settings.port}/${encodeURIComponent(settings.database)}${query ? `?${query}` : ""}`;
}
