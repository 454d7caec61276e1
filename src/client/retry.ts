// Retrying idempotent database work through the database's normal life: a Multi-AZ failover, a
// reboot, an instance-class change or a minor-version upgrade drops every connection (57P01,
// "terminating connection due to administrator command") and refuses new ones for a while (57P03
// "the database system is starting up"/"shutting down", or ECONNREFUSED). Work that is safe to run
// twice can simply run again once the database is back; nothing else may be retried here.

/** SQLSTATEs and socket errors that mean "the connection or the server went away", not "the work is wrong". */
const TRANSIENT_CODES = new Set([
  "57P01", // admin_shutdown: the server ended the connection (failover, restart, fast shutdown)
  "57P02", // crash_shutdown
  "57P03", // cannot_connect_now: starting up or shutting down
  "08000", // connection_exception
  "08001", // sqlclient_unable_to_establish_sqlconnection
  "08003", // connection_does_not_exist
  "08006", // connection_failure
  "ECONNREFUSED",
  "ECONNRESET",
  "EPIPE",
  "ETIMEDOUT",
  "EHOSTUNREACH",
]);

/** pg's own errors when the socket closes under a query; they carry no code. */
const TERMINATED = /^Connection terminated|^Client has encountered a connection error|^timeout exceeded when trying to connect/;

/** Whether `error` is a lost or refused connection, after which idempotent work may be run again. */
export function isTransientConnectionError(error: unknown): boolean {
  // Not `instanceof Error`: errors of Node's own modules may come from another realm (a VM context).
  if (typeof error !== "object" || error === null) return false;
  const { code, message } = error as { code?: unknown; message?: unknown };
  if (typeof code === "string") return TRANSIENT_CODES.has(code);
  return typeof message === "string" && TERMINATED.test(message);
}

export interface ConnectionRetryOptions {
  /**
   * How long, from the first attempt, to keep trying. An RDS Multi-AZ failover usually completes
   * within 60–120 s; the default covers most of them without holding a caller for minutes.
   * @default 90_000
   */
  readonly deadlineMs?: number;
  /**
   * First backoff ceiling; each retry doubles it, with full jitter.
   * @default 100
   */
  readonly initialDelayMs?: number;
  /**
   * Largest backoff between attempts.
   * @default 5_000
   */
  readonly maxDelayMs?: number;
  /** Told about each retry (never given a password or URL: pg's messages carry none). */
  readonly onRetry?: (error: Error, attempt: number, delayMs: number) => void;
}

/**
 * Runs `work`, and runs it again after a lost or refused connection, with jittered exponential backoff,
 * until it succeeds, fails for another reason, or the deadline passes (then the last error is thrown).
 * Only for work that is safe to repeat: a statement whose commit may or may not have happened when the
 * connection broke will run twice.
 */
export async function withConnectionRetry<T>(work: () => Promise<T>, options: ConnectionRetryOptions = {}): Promise<T> {
  const deadline = Date.now() + (options.deadlineMs ?? 90_000);
  const initialDelay = options.initialDelayMs ?? 100;
  const maxDelay = options.maxDelayMs ?? 5_000;
  for (let attempt = 1; ; attempt++) {
    try {
      return await work();
    } catch (error) {
      if (!isTransientConnectionError(error)) throw error;
      const delay = Math.random() * Math.min(maxDelay, initialDelay * 2 ** (attempt - 1));
      if (Date.now() + delay >= deadline) throw error;
      options.onRetry?.(error as Error, attempt, delay);
      await new Promise((resolve) => setTimeout(resolve, delay));
    }
  }
}
