// withConnectionRetry: idempotent work runs again after a lost or refused connection, and only then;
// the deadline bounds the whole, and the last error is what the caller gets. (Its behaviour against a
// real server going down and coming back is in test/client/failover.test.ts.)

import { isTransientConnectionError, withConnectionRetry } from "../../src/client/retry";

const failure = (code: string | undefined, message = "failed") => Object.assign(new Error(message), code === undefined ? {} : { code });

describe("isTransientConnectionError", () => {
  it.each(["57P01", "57P02", "57P03", "08000", "08001", "08003", "08006", "ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT"])(
    "counts %s as a lost or refused connection",
    (code) => {
      expect(isTransientConnectionError(failure(code))).toBe(true);
    },
  );

  it("counts pg's own messages for a socket closed under a query", () => {
    expect(isTransientConnectionError(failure(undefined, "Connection terminated unexpectedly"))).toBe(true);
    expect(isTransientConnectionError(failure(undefined, "Connection terminated due to connection timeout"))).toBe(true);
  });

  it.each(["23505", "23514", "22P02", "40001", "42501", "57014"])(
    "does not count %s: the work itself failed, running it again changes nothing",
    (code) => {
      expect(isTransientConnectionError(failure(code))).toBe(false);
    },
  );

  it("does not count what is not an error", () => {
    expect(isTransientConnectionError("ECONNREFUSED")).toBe(false);
    expect(isTransientConnectionError(undefined)).toBe(false);
  });
});

describe("withConnectionRetry", () => {
  it("runs the work again after each lost connection until it succeeds", async () => {
    let attempts = 0;
    const seen: number[] = [];
    const result = await withConnectionRetry(
      async () => {
        attempts++;
        if (attempts < 4) throw failure(attempts % 2 ? "57P01" : "ECONNREFUSED");
        return "done";
      },
      { initialDelayMs: 1, onRetry: (_error, attempt) => seen.push(attempt) },
    );
    expect({ result, attempts, seen }).toEqual({ result: "done", attempts: 4, seen: [1, 2, 3] });
  });

  it("never runs again work that failed for another reason", async () => {
    let attempts = 0;
    const duplicate = failure("23505");
    await expect(
      withConnectionRetry(async () => {
        attempts++;
        throw duplicate;
      }),
    ).rejects.toBe(duplicate);
    expect(attempts).toBe(1);
  });

  it("gives up once the next wait would pass the deadline, with the last error", async () => {
    let attempts = 0;
    const errors: Error[] = [];
    const thrown = await withConnectionRetry(
      async () => {
        attempts++;
        const error = failure("57P03", `starting up (${attempts})`);
        errors.push(error);
        throw error;
      },
      { deadlineMs: 0, initialDelayMs: 1 },
    ).catch((error: Error) => error);
    expect(thrown).toBe(errors.at(-1));
    expect(attempts).toBe(1);
  });
});
