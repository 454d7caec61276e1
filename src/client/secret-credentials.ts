// A login role's user and password read from its Secrets Manager secret when a connection opens, so a
// running pool follows a password rotation (which also changes the user: the role's other slot) with
// no restart. Reads are reused for a short while; a read the server refuses is forgotten at once.

import { Client, ClientConfig } from "pg";
import { readRoleSecret, RoleSecret } from "./role-secret";

export interface SecretCredentialsSettings {
  /** The login role's secret: the stack output `pulse_analytics_db_<role>_secret_arn`. */
  readonly secretArn: string;
  /**
   * How long one read of the secret serves new connections. A rotation leaves the previous password
   * valid until the next one, so any value well under the time between two rotations loses nothing.
   * @default 300000 (5 minutes: about 290 reads a day per process)
   */
  readonly cacheTtlMs?: number;
}

/** PostgreSQL's invalid_password: the user or the password was refused. */
const INVALID_PASSWORD = "28P01";

/** One secret's value, read at most once per cacheTtlMs, shared by every connection of a pool. */
export class SecretCredentials {
  private cached?: { readonly value: Promise<RoleSecret>; readonly readAt: number };

  constructor(private readonly settings: SecretCredentialsSettings) {}

  /** The secret's user and password: the cached read while it is fresh, a new read otherwise. */
  get(): Promise<RoleSecret> {
    const ttl = this.settings.cacheTtlMs ?? 300_000;
    if (this.cached === undefined || Date.now() - this.cached.readAt >= ttl) {
      const value = readRoleSecret(this.settings.secretArn);
      this.cached = { value, readAt: Date.now() };
      // A failed read is not kept: the next connection tries again.
      value.catch(() => this.forget(value));
    }
    return this.cached.value;
  }

  /** Drops `value` if it is still the cached read (the server refused it: the secret has moved on twice). */
  forget(value: Promise<RoleSecret>): void {
    if (this.cached?.value === value) this.cached = undefined;
  }
}

type ConnectCallback = (error: Error | null, client?: Client) => void;

/** The pg client internals the class below sets; pg reads them when the connection starts. */
interface ClientCredentials {
  user?: string;
  password?: string;
  connectionParameters: { user?: string; password?: string };
}

/**
 * A pg Client class for a Pool's `Client` option: before it connects, it takes the user and password
 * from `credentials`. pg sends the user in the startup message, before a password callback could
 * run, so both are set here. The read counts against the pool's connectionTimeoutMillis, and a client
 * the pool gave up on (timed out, or ended) while the secret was read never opens a connection.
 */
export function clientReadingSecret(credentials: SecretCredentials): new (config?: ClientConfig) => Client {
  return class SecretReadingClient extends Client {
    private readonly timeoutMs: number;
    private ended = false;

    constructor(config?: ClientConfig) {
      super(config);
      this.timeoutMs = config?.connectionTimeoutMillis ?? 0;
    }

    override connect(): Promise<Client>;
    override connect(callback: ConnectCallback): void;
    override connect(callback?: ConnectCallback): Promise<Client> | void {
      const read = credentials.get();
      const connected = withTimeout(read, this.timeoutMs).then(async (secret) => {
        // pg-pool's timeout ends a client that is not connected yet by destroying its socket.
        if (this.ended || (this as unknown as { connection: { stream: { destroyed: boolean } } }).connection.stream.destroyed) {
          throw new Error("Connection terminated before it opened: the pool timed out or ended it while the secret was read");
        }
        const self = this as unknown as ClientCredentials;
        self.user = self.connectionParameters.user = secret.username;
        self.password = self.connectionParameters.password = secret.password;
        try {
          return await super.connect();
        } catch (error) {
          if ((error as { code?: string }).code === INVALID_PASSWORD) credentials.forget(read);
          throw error;
        }
      });
      if (callback === undefined) return connected;
      connected.then(
        (client) => callback(null, client),
        (error: Error) => callback(error),
      );
    }

    override end(): Promise<void>;
    override end(callback: (error: Error) => void): void;
    override end(callback?: (error: Error) => void): Promise<void> | void {
      this.ended = true;
      return callback === undefined ? super.end() : super.end(callback);
    }
  };
}

/** `promise`, or a rejection once `ms` pass first (0: no limit). */
function withTimeout<T>(promise: Promise<T>, ms: number): Promise<T> {
  if (ms <= 0) return promise;
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`timeout expired reading the credentials secret (connectionTimeoutMillis ${ms})`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
