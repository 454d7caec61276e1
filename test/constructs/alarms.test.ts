// The CloudWatch alarms of PulseAnalyticsPostgres: which alarms each instance gets, and thresholds
// derived from the configuration: as numbers for literal props, and as Terraform expressions for the
// stacks' variables, which real Terraform evaluates to the same numbers.

import { execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { TerraformOutput, TerraformStack, TerraformVariable, Testing } from "cdktf";
import { classMemoryBytes, classMemoryGib } from "../../src/constructs/alarms";
import { resourcesOfType, synthConstruct, TerraformJson } from "../support/synth";

const synth = (overrides = {}): TerraformJson => JSON.parse(synthConstruct(overrides));
const GIB = 1024 ** 3;

/** The alarms of a synthesized construct, by name. */
function alarmsOf(json: TerraformJson): Record<string, Record<string, any>> {
  return Object.fromEntries(resourcesOfType(json, "aws_cloudwatch_metric_alarm").map((alarm) => [alarm.alarm_name, alarm]));
}

describe("the alarms of the primary", () => {
  // db.t4g.micro (1 GiB), 20 GiB of gp3 at its 3000 baseline IOPS: the construct's defaults.
  const alarms = alarmsOf(synth());

  it("watch CPU, memory, storage, connections, latency, the disk queue and transaction ids, each on the instance", () => {
    expect(Object.keys(alarms).sort()).toEqual(
      ["cpu", "freeable-memory", "free-storage", "connections", "read-latency", "write-latency", "disk-queue-depth", "transaction-ids"]
        .map((key) => `pulse-analytics-dev-${key}`)
        .sort(),
    );
    for (const alarm of Object.values(alarms)) {
      expect(alarm.namespace).toBe("AWS/RDS");
      expect(alarm.dimensions.DBInstanceIdentifier).toMatch(/^\$\{aws_db_instance\.[^.]*instance[^.]*\.identifier\}$/);
      expect(alarm.alarm_actions).toEqual([expect.stringMatching(/^\$\{aws_sns_topic\.[^.]+\.arn\}$/)]);
      expect(alarm.ok_actions).toEqual(alarm.alarm_actions);
      expect(alarm.alarm_description).toMatch(/^PULSE Analytics Postgres pulse-analytics-dev: \w+ (above|below) .+\.$/);
    }
  });

  it("derive their thresholds from the class, the storage and the IOPS", () => {
    const threshold = (key: string) => alarms[`pulse-analytics-dev-${key}`].threshold;
    expect(threshold("freeable-memory")).toBe(0.1 * GIB); // 10% of 1 GiB
    // 80% of max_connections: 90% of 1 GiB / 9531392 = 101.
    expect(threshold("connections")).toBe(80);
    expect(threshold("free-storage")).toBe(2 * GIB); // 10% of 20 GiB
    expect(threshold("disk-queue-depth")).toBe(60); // 3000 IOPS × 20 ms
    expect(threshold("cpu")).toBe(80);
    expect(threshold("transaction-ids")).toBe(1_000_000_000);

    const larger = alarmsOf(
      synth({ instanceClass: "db.r7g.2xlarge", allocatedStorageGb: 400, maxAllocatedStorageGb: 1000, iops: 12000, storageThroughputMibps: 500 }),
    );
    expect(larger["pulse-analytics-dev-freeable-memory"].threshold).toBe(0.1 * 64 * GIB);
    // 64 GiB would allow 7209 connections; RDS caps the default at 5000.
    expect(larger["pulse-analytics-dev-connections"].threshold).toBe(4000);
    expect(larger["pulse-analytics-dev-free-storage"].threshold).toBe(40 * GIB);
    expect(larger["pulse-analytics-dev-disk-queue-depth"].threshold).toBe(240);
  });

  it("take max_connections from the parameters when a number is set there, and the class's default for a formula", () => {
    const set = alarmsOf(synth({ parameters: { max_connections: { value: "400", applyMethod: "pending-reboot" } } }));
    expect(set["pulse-analytics-dev-connections"].threshold).toBe(320);
    const formula = alarmsOf(
      synth({ parameters: { max_connections: { value: "LEAST({DBInstanceClassMemory/9531392},5000)", applyMethod: "pending-reboot" } } }),
    );
    expect(formula["pulse-analytics-dev-connections"].threshold).toBe(80);
  });

  it("are left out with alarms: false", () => {
    expect(synth({ alarms: false }).resource.aws_cloudwatch_metric_alarm).toBeUndefined();
  });
});

describe("the alarms of a read replica", () => {
  const alarms = alarmsOf(synth({ readReplicas: { count: 1, instanceClass: "db.r7g.large" } }));

  it("watch its CPU, memory and storage, and how far it lags, on the replica", () => {
    const replica = Object.keys(alarms).filter((name) => name.startsWith("pulse-analytics-dev-replica-1-"));
    expect(replica.sort()).toEqual(["cpu", "free-storage", "freeable-memory", "replica-lag"].map((key) => `pulse-analytics-dev-replica-1-${key}`));
    for (const name of replica) {
      expect(alarms[name].dimensions.DBInstanceIdentifier).toMatch(/^\$\{aws_db_instance\.[^.]*replica-1[^.]*\.identifier\}$/);
    }
    expect(alarms["pulse-analytics-dev-replica-1-freeable-memory"].threshold).toBe(0.1 * 16 * GIB);
    expect(alarms["pulse-analytics-dev-replica-1-replica-lag"]).toMatchObject({
      metric_name: "ReplicaLag",
      threshold: 300,
      comparison_operator: "GreaterThanThreshold",
    });
  });
});

describe("the class memory table", () => {
  it.each([
    ["db.t4g.micro", 1],
    ["db.t3.small", 2],
    ["db.t4g.medium", 4],
    ["db.t4g.large", 8],
    ["db.t4g.2xlarge", 32],
    ["db.m7g.large", 8],
    ["db.m6i.xlarge", 16],
    ["db.r7g.large", 16],
    ["db.r6g.16xlarge", 512],
    ["db.x2g.large", 32],
    ["db.x2iedn.xlarge", 128],
  ])("gives %s %d GiB (RDS's instance class specifications)", (instanceClass, gib) => {
    expect(classMemoryGib(instanceClass)).toBe(gib);
  });

  it("knows no memory for a metal class", () => {
    expect(classMemoryGib("db.r6i.metal")).toBeUndefined();
  });
});

// A class set through the stacks' variable is sized by Terraform itself, from the same tables.
const terraformAvailable = spawnSync("terraform", ["version"], { stdio: "ignore" }).status === 0;
if (!terraformAvailable) console.warn("terraform is not on PATH: the Terraform form of the class memory table is not evaluated.");

(terraformAvailable ? describe : describe.skip)("the class memory table, as Terraform evaluates it for a variable class", () => {
  it("gives every family and size the same memory as the TypeScript table (terraform console)", () => {
    const stack = new TerraformStack(Testing.app(), "memory");
    const instanceClass = new TerraformVariable(stack, "instance_class", { type: "string" });
    new TerraformOutput(stack, "memory", { value: classMemoryBytes(instanceClass.stringValue) });
    const expression = (JSON.parse(Testing.synth(stack)).output.memory.value as string).replace(/^\$\{([^]*)\}$/, "$1");
    expect(expression).toContain("var.instance_class");

    const classes = [
      ...["micro", "small", "medium", "large", "xlarge", "2xlarge"].flatMap((size) => ["t3", "t4g"].map((family) => `db.${family}.${size}`)),
      ...["m5", "m6g", "m7i", "m8gd", "r5b", "r6idn", "r7g", "r8g", "x2g", "x2iedn"].flatMap((family) =>
        ["large", "xlarge", "2xlarge", "4xlarge", "12xlarge", "24xlarge"].map((size) => `db.${family}.${size}`),
      ),
    ];
    const all = `jsonencode([${classes.map((c) => expression.replaceAll("var.instance_class", JSON.stringify(c))).join(", ")}])`;
    const dir = mkdtempSync(join(tmpdir(), "pulse-console-"));
    try {
      // Non-interactive, terraform console prints the value of the last expression only: one list.
      const printed = execFileSync("terraform", ["console"], {
        cwd: dir,
        input: `${all}\n`,
        env: { ...process.env, TF_CLI_CONFIG_FILE: "/dev/null" },
      });
      const evaluated: number[] = JSON.parse(JSON.parse(printed.toString().trim()));
      expect(Object.fromEntries(classes.map((c, i) => [c, evaluated[i]]))).toEqual(
        Object.fromEntries(classes.map((c) => [c, classMemoryGib(c)! * GIB])),
      );
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 60_000);
});
