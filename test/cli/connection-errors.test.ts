// The database commands when the database cannot be reached (issue 10; issue 11 found the stack
// trace): one line naming the failure and what to check, exit 1, no password, no stack.

import { isPostgresError } from "../../src/cli/command";
import { freePort, runCli } from "../support/local-database";

const PASSWORD = "s3cret-never-shown";

describe.each(["db-migrate", "db-maintain"])("npm run %s with the database down", (command) => {
  it("says in one line that the database cannot be reached and what to check, and shows no password", async () => {
    const port = await freePort();
    const url = `postgresql://pulse_analytics_migrator:${PASSWORD}@localhost:${port}/pulse_analytics`;
    const run = await runCli(command, [], { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: url });
    expect(run.code).toBe(1);
    const lines = run.stderr
      .trim()
      .split("\n")
      .filter((line) => !line.startsWith("npm warn"));
    expect(lines).toEqual([
      expect.stringMatching(
        /^error: cannot reach the database \(ECONNREFUSED\): check that it is running and that the URL's host and port are right/,
      ),
    ]);
    expect(run.stderr + run.stdout).not.toContain(PASSWORD);
  });
});

describe("a failure's label", () => {
  it("says PostgreSQL only for an error PostgreSQL answered with, not for Node's own codes like EPERM (issue 10)", () => {
    expect(isPostgresError({ code: "42501", severity: "ERROR", message: "permission denied for table x" })).toBe(true);
    expect(isPostgresError(Object.assign(new Error("operation not permitted"), { code: "EPERM", errno: -1, syscall: "kill" }))).toBe(false);
  });
});
