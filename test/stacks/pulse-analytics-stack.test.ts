// The dev, staging and prod stacks as `npm run synth` writes them: sizing per environment, operator
// variables, outputs, state backend, and refusal of a bad config before anything is written.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { EnvironmentConfig, environments, InvalidInputError } from "../../src";
import { stateLocationFromEnvironment, synthesizePulseAnalytics } from "../../stacks/app";
import { onlyResource, synthApp } from "../support/synth";

const stacks = synthApp();
const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

describe("the synthesized stacks", () => {
  it("are one stack per environment, named dev, staging and prod", () => {
    expect(Object.keys(stacks).sort()).toEqual(["dev", "prod", "staging"]);
  });

  it.each(ENVIRONMENTS)("%s matches its reviewed snapshot", (env) => {
    expect(stacks[env]).toMatchSnapshot();
  });

  it("are deterministic and machine-independent: no absolute path, no host name, same bytes twice", () => {
    const again = synthApp();
    expect(JSON.stringify(again)).toBe(JSON.stringify(stacks));
    const text = JSON.stringify(stacks);
    for (const machineSpecific of [process.cwd(), tmpdir(), hostname(), homedir()]) {
      expect(text).not.toContain(machineSpecific);
    }
  });

  it("require Terraform 1.10 or newer (S3-native locking, cross-variable validation)", () => {
    for (const env of ENVIRONMENTS) expect(stacks[env].terraform.required_version).toBe(">= 1.10.0");
  });
});

describe("sizing per environment", () => {
  const instance = (env: string) => onlyResource(stacks[env], "aws_db_instance");
  const defaultOf = (env: string, variable: string) => stacks[env].variable[variable].default;

  it("keeps dev small and disposable: single-AZ, burstable, 20 GiB, unprotected, no final snapshot", () => {
    expect(defaultOf("dev", "pulse_analytics_db_multi_az")).toBe(false);
    expect(defaultOf("dev", "pulse_analytics_db_instance_class")).toMatch(/^db\.t4g\./);
    expect(defaultOf("dev", "pulse_analytics_db_storage_gb")).toBe(20);
    expect(instance("dev")).toMatchObject({ deletion_protection: false, skip_final_snapshot: true });
  });

  it("gives staging prod's shape at a smaller size: Multi-AZ, protected, monitored, at least 7 days of backups", () => {
    expect(defaultOf("staging", "pulse_analytics_db_multi_az")).toBe(true);
    expect(defaultOf("staging", "pulse_analytics_db_backup_retention_days")).toBeGreaterThanOrEqual(7);
    expect(instance("staging")).toMatchObject({ deletion_protection: true, skip_final_snapshot: false, performance_insights_enabled: true });
    expect(instance("staging").monitoring_interval).toBeGreaterThan(0);
    expect(defaultOf("staging", "pulse_analytics_db_max_storage_gb")).toBeLessThan(defaultOf("prod", "pulse_analytics_db_max_storage_gb"));
  });

  it("makes prod Multi-AZ, deletion-protected, with a final snapshot, Performance Insights, Enhanced Monitoring and the largest storage ceiling", () => {
    expect(defaultOf("prod", "pulse_analytics_db_multi_az")).toBe(true);
    expect(instance("prod")).toMatchObject({
      deletion_protection: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "pulse-analytics-prod-final-snapshot",
      performance_insights_enabled: true,
    });
    expect(instance("prod").monitoring_interval).toBeGreaterThan(0);
    expect(stacks.prod.resource.aws_iam_role).toBeDefined();
    const ceilings = ENVIRONMENTS.map((env) => defaultOf(env, "pulse_analytics_db_max_storage_gb"));
    expect(Math.max(...ceilings)).toBe(defaultOf("prod", "pulse_analytics_db_max_storage_gb"));
  });
});

describe("input variables", () => {
  const OPERATOR_VARIABLES = [
    "pulse_analytics_db_instance_class",
    "pulse_analytics_db_storage_gb",
    "pulse_analytics_db_max_storage_gb",
    "pulse_analytics_db_multi_az",
    "pulse_analytics_db_backup_retention_days",
    "pulse_analytics_db_vpc_id",
    "pulse_analytics_db_subnet_ids",
    "pulse_analytics_db_allowed_security_group_ids",
    "pulse_analytics_db_allowed_cidr_blocks",
  ];

  it.each(ENVIRONMENTS)("let an operator re-size and re-point %s without a code change", (env) => {
    expect(Object.keys(stacks[env].variable)).toEqual(
      expect.arrayContaining([...OPERATOR_VARIABLES, "pulse_analytics_db_admin_host", "pulse_analytics_db_admin_port", "aws_region"]),
    );
  });

  it.each(ENVIRONMENTS)("default to %s's config", (env) => {
    const config = environments[env];
    const variables = stacks[env].variable;
    expect({
      instanceClass: variables.pulse_analytics_db_instance_class.default,
      storage: variables.pulse_analytics_db_storage_gb.default,
      maxStorage: variables.pulse_analytics_db_max_storage_gb.default,
      multiAz: variables.pulse_analytics_db_multi_az.default,
      backups: variables.pulse_analytics_db_backup_retention_days.default,
    }).toEqual({
      instanceClass: config.instanceClass,
      storage: config.allocatedStorageGb,
      maxStorage: config.maxAllocatedStorageGb,
      multiAz: config.multiAz,
      backups: config.backupRetentionDays,
    });
  });

  it("leave the network required when the config does not name it, and default to it when it does", () => {
    const vpc = stacks.dev.variable.pulse_analytics_db_vpc_id;
    expect(vpc).not.toHaveProperty("default");
    expect(stacks.dev.variable.pulse_analytics_db_subnet_ids).not.toHaveProperty("default");

    const withNetwork = synthApp({
      environments: {
        ...environments,
        dev: { ...environments.dev, vpcId: "vpc-0a1b2c3d", subnetIds: ["subnet-0a1b2c3d", "subnet-1a2b3c4d"], allowedSecurityGroupIds: ["sg-0a1b2c3d"] },
      },
    });
    expect(withNetwork.dev.variable.pulse_analytics_db_vpc_id.default).toBe("vpc-0a1b2c3d");
    expect(withNetwork.dev.variable.pulse_analytics_db_subnet_ids.default).toEqual(["subnet-0a1b2c3d", "subnet-1a2b3c4d"]);
  });

  it.each(OPERATOR_VARIABLES.filter((v) => v !== "pulse_analytics_db_multi_az"))("%s carries a validation block naming itself", (name) => {
    for (const env of ENVIRONMENTS) {
      const validation = stacks[env].variable[name].validation as Array<{ condition: string; error_message: string }>;
      expect(validation.length).toBeGreaterThan(0);
      for (const v of validation) {
        expect(v.condition).toContain(`var.${name}`);
        expect(v.error_message).toMatch(new RegExp(`^${name}: allowed is .+\\.$`));
      }
    }
  });

  it("feed the construct: the instance reads them", () => {
    const db = onlyResource(stacks.prod, "aws_db_instance");
    expect(db).toMatchObject({
      instance_class: "${var.pulse_analytics_db_instance_class}",
      allocated_storage: "${var.pulse_analytics_db_storage_gb}",
      max_allocated_storage: "${var.pulse_analytics_db_max_storage_gb}",
      multi_az: "${var.pulse_analytics_db_multi_az}",
      backup_retention_period: "${var.pulse_analytics_db_backup_retention_days}",
    });
    expect(onlyResource(stacks.prod, "aws_security_group").vpc_id).toBe("${var.pulse_analytics_db_vpc_id}");
    expect(stacks.prod.provider.aws[0].region).toBe("${var.aws_region}");
    expect(stacks.prod.provider.postgresql[0].host).toMatch(/^\$\{coalesce\(var\.pulse_analytics_db_admin_host, aws_db_instance\..+\.address\)\}$/);
  });
});

describe("outputs", () => {
  const OUTPUTS = [
    "pulse_analytics_db_host",
    "pulse_analytics_db_port",
    "pulse_analytics_db_name",
    "pulse_analytics_db_user",
    "pulse_analytics_db_endpoint",
    "pulse_analytics_db_master_secret_arn",
    "pulse_analytics_db_app_secret_arn",
    "pulse_analytics_db_migrator_secret_arn",
    "pulse_analytics_db_readonly_secret_arn",
    "pulse_analytics_db_security_group_id",
  ];

  it.each(ENVIRONMENTS)("%s has exactly the documented outputs", (env) => {
    expect(Object.keys(stacks[env].output).sort()).toEqual([...OUTPUTS].sort());
  });

  it("point at the instance, the database, the app role and the secrets' ARNs", () => {
    const value = (name: string) => stacks.prod.output[name].value;
    expect(value("pulse_analytics_db_host")).toMatch(/^\$\{aws_db_instance\..+\.address\}$/);
    expect(value("pulse_analytics_db_port")).toMatch(/^\$\{aws_db_instance\..+\.port\}$/);
    expect(value("pulse_analytics_db_endpoint")).toMatch(/^\$\{aws_db_instance\..+\.endpoint\}$/);
    expect(value("pulse_analytics_db_name")).toBe("pulse_analytics");
    expect(value("pulse_analytics_db_user")).toBe("pulse_analytics_app");
    expect(value("pulse_analytics_db_master_secret_arn")).toMatch(/^\$\{aws_db_instance\..+\.master_user_secret\[0\]\.secret_arn\}$/);
    for (const role of ["app", "migrator", "readonly"]) {
      expect(value(`pulse_analytics_db_${role}_secret_arn`)).toMatch(/^\$\{aws_secretsmanager_secret\..+\.arn\}$/);
    }
    expect(value("pulse_analytics_db_security_group_id")).toMatch(/^\$\{aws_security_group\..+\.id\}$/);
  });
});

describe("state backend", () => {
  it("is a local file at the project root when no bucket is configured", () => {
    expect(stacks.dev.terraform.backend).toEqual({ local: { path: "../../../terraform.dev.tfstate" } });
  });

  it("is S3, encrypted, with S3-native locking and a key per environment when a bucket is configured", () => {
    const s3 = synthApp({ stateBackend: { bucket: "pulse-tf-state", region: "eu-central-1" } });
    for (const env of ENVIRONMENTS) {
      expect(s3[env].terraform.backend).toEqual({
        s3: {
          bucket: "pulse-tf-state",
          region: "eu-central-1",
          key: `pulse-analytics/${env}/terraform.tfstate`,
          encrypt: true,
          use_lockfile: true,
        },
      });
    }
  });

  it("is read from PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION, both or neither", () => {
    expect(stateLocationFromEnvironment({})).toBeUndefined();
    expect(stateLocationFromEnvironment({ PULSE_TF_STATE_BUCKET: "b", PULSE_TF_STATE_REGION: "eu-west-1" })).toEqual({ bucket: "b", region: "eu-west-1" });
    expect(() => stateLocationFromEnvironment({ PULSE_TF_STATE_BUCKET: "b" })).toThrow(
      "PULSE_TF_STATE_REGION is not set but PULSE_TF_STATE_BUCKET is: set both for S3 state, or neither for local state.",
    );
    expect(() => stateLocationFromEnvironment({ PULSE_TF_STATE_REGION: "eu-west-1" })).toThrow(InvalidInputError);
  });
});

describe("a bad environment config", () => {
  const withBadProd = (prod: Partial<EnvironmentConfig>) => ({ ...environments, prod: { ...environments.prod, ...prod } });

  it.each([
    [{ backupRetentionDays: 3 }, "environments.prod: invalid backupRetentionDays: 3. Allowed: a whole number of days from 7 to 35 in prod"],
    [{ instanceClass: "db.t4g.huge" }, 'environments.prod: invalid instanceClass: "db.t4g.huge"'],
    [{ maxAllocatedStorageGb: 100 }, "environments.prod: invalid maxAllocatedStorageGb: 100. Allowed: a whole number of GiB at least 10% above allocatedStorageGb (100, so at least 110)"],
    [{ allowedCidrBlocks: ["0.0.0.0/0"] }, 'environments.prod: invalid allowedCidrBlocks: ["0.0.0.0/0"]'],
  ])("fails at synth, naming the environment and the prop (%j), and writes no stack", (bad, message) => {
    const outdir = mkdtempSync(join(tmpdir(), "pulse-bad-"));
    try {
      // dev and staging are valid and come first: they must not be written either.
      expect(() => synthesizePulseAnalytics(new App({ outdir }), { environments: withBadProd(bad) })).toThrow(message);
      // cdktf's App makes the empty stacks/ folder when it is created; no file is written.
      expect(readdirSync(outdir, { recursive: true, withFileTypes: true }).filter((e) => e.isFile())).toEqual([]);
    } finally {
      rmSync(outdir, { recursive: true, force: true });
    }
  });
});

