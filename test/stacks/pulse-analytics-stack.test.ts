// The app as `npm run synth` writes it: the bootstrap stack, and per environment an instance stack
// (`<env>-instance`) and a database stack (`<env>`): sizing, operator variables, outputs, state
// backends, the order cdktf deploys them in, and refusal of a bad config before anything is written.

import { mkdtempSync, readdirSync, rmSync } from "node:fs";
import { homedir, hostname, tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "cdktf";
import { InvalidInputError } from "../../src";
import { EnvironmentConfig, environments } from "../../stacks";
import { stateLocationFromEnvironment, synthesizePulseAnalytics } from "../../stacks/app";
import { onlyResource, primaryInstance, resourcesOfType, synthApp, synthAppWithManifest } from "../support/synth";

const { stacks, manifest } = synthAppWithManifest();
const ENVIRONMENTS = ["dev", "staging", "prod"] as const;
const instanceStack = (env: string) => stacks[`${env}-instance`];
const databaseStack = (env: string) => stacks[env];

describe("the synthesized app", () => {
  it("is the bootstrap stack and two stacks per environment: <env>-instance, then <env>", () => {
    expect(Object.keys(stacks).sort()).toEqual(["bootstrap", "dev", "dev-instance", "prod", "prod-instance", "staging", "staging-instance"]);
  });

  it("is deterministic and machine-independent: no absolute path, no host name, same bytes twice", () => {
    const again = synthApp();
    expect(JSON.stringify(again)).toBe(JSON.stringify(stacks));
    const text = JSON.stringify(stacks);
    for (const machineSpecific of [process.cwd(), tmpdir(), hostname(), homedir()]) {
      expect(text).not.toContain(machineSpecific);
    }
  });

  it("requires Terraform 1.10 or newer everywhere (ephemeral resources, S3-native locking)", () => {
    for (const json of Object.values(stacks)) expect(json.terraform.required_version).toBe(">= 1.10.0");
  });
});

// Finding 5 of issue 9: HashiCorp's provider documentation ("Provider Configuration": "You can use
// expressions … but can only reference values that are known before the configuration is applied")
// advises against configuring a provider from resources of the same configuration. The postgresql
// provider is configured from the instance, so the instance lives in a stack applied first.
describe("an environment's two stacks", () => {
  it.each(ENVIRONMENTS)("%s-instance holds the AWS resources and nothing that connects to the database", (env) => {
    const json = instanceStack(env);
    expect(Object.keys(json.provider)).toEqual(["aws"]);
    expect(Object.keys(json.resource).filter((type) => !type.startsWith("aws_"))).toEqual([]);
    expect(resourcesOfType(json, "aws_db_instance").filter((db) => db.replicate_source_db === undefined)).toHaveLength(1);
    expect(json.ephemeral).toBeUndefined();
  });

  it.each(ENVIRONMENTS)("%s holds the database level and no instance", (env) => {
    const json = databaseStack(env);
    expect(json.resource.aws_db_instance).toBeUndefined();
    expect(json.resource.aws_kms_key).toBeUndefined();
    expect(resourcesOfType(json, "postgresql_database")).toHaveLength(1);
  });

  it.each(ENVIRONMENTS)("%s reads the instance's address, port, master user, master secret and key from %s-instance's outputs", (env) => {
    const json = databaseStack(env);
    const provider = json.provider.postgresql[0];
    const remote = (output: string) => `data.terraform_remote_state.instance.outputs.${output}`;
    expect(provider.host).toBe(`\${coalesce(var.pulse_analytics_db_admin_host, ${remote("pulse_analytics_db_host")})}`);
    expect(provider.port).toBe(`\${coalesce(var.pulse_analytics_db_admin_port, ${remote("pulse_analytics_db_port")})}`);
    expect(provider.username).toBe(`\${${remote("pulse_analytics_db_master_username")}}`);
    expect(Object.values(json.ephemeral!.aws_secretsmanager_secret_version)[0].secret_id).toBe(
      `\${${remote("pulse_analytics_db_master_secret_arn")}}`,
    );
    for (const secret of resourcesOfType(json, "aws_secretsmanager_secret")) {
      expect(secret.kms_key_id).toBe(`\${${remote("pulse_analytics_db_kms_key_arn")}}`);
    }
    // Every output it reads is one the instance stack writes.
    const read = [...JSON.stringify(json).matchAll(/terraform_remote_state\.instance\.outputs\.(\w+)/g)].map((m) => m[1]);
    expect(Object.keys(instanceStack(env).output)).toEqual(expect.arrayContaining([...new Set(read)]));
  });

  it("reads them from the instance stack's own state, with the database stack's backend", () => {
    const s3 = synthApp({ stateBackend: { bucket: "pulse-tf-state", region: "eu-central-1" } });
    expect(s3.prod.data!.terraform_remote_state.instance).toMatchObject({
      backend: "s3",
      config: { bucket: "pulse-tf-state", region: "eu-central-1", key: "pulse-analytics/prod-instance/terraform.tfstate" },
    });
    expect(stacks.prod.data!.terraform_remote_state.instance).toMatchObject({
      backend: "local",
      config: { path: "../../../terraform.prod-instance.tfstate" },
    });
  });

  it("are deployed in that order by `cdktf deploy <env>-instance <env>`, and destroyed in the reverse", () => {
    // cdktf's manifest: the CLI deploys a stack only after its dependencies, destroys it before them,
    // and refuses to deploy `<env>` alone ("dependencies are not included … add them").
    for (const env of ENVIRONMENTS) {
      expect(manifest.stacks[env].dependencies).toEqual([`${env}-instance`]);
      expect(manifest.stacks[`${env}-instance`].dependencies).toEqual([]);
    }
    expect(manifest.stacks.bootstrap.dependencies).toEqual([]);
  });
});

describe("sizing per environment", () => {
  const instance = (env: string) => primaryInstance(instanceStack(env));
  const defaultOf = (env: string, variable: string) => instanceStack(env).variable[variable].default;

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

  it("gives staging and prod alarms and an events topic, and dev neither", () => {
    expect(instanceStack("dev").resource.aws_cloudwatch_metric_alarm).toBeUndefined();
    expect(instanceStack("dev").resource.aws_sns_topic).toBeUndefined();
    for (const env of ["staging", "prod"]) {
      // The primary's 8 and the replica's 4.
      expect(resourcesOfType(instanceStack(env), "aws_cloudwatch_metric_alarm")).toHaveLength(12);
      expect(resourcesOfType(instanceStack(env), "aws_db_event_subscription")).toHaveLength(1);
      // The class is a variable: Terraform sizes it once, in a local the memory thresholds refer to.
      const [local, expression] = Object.entries((instanceStack(env) as any).locals as Record<string, string>)[0];
      expect(expression).toContain("var.pulse_analytics_db_instance_class");
      const memoryAlarms = resourcesOfType(instanceStack(env), "aws_cloudwatch_metric_alarm").filter((a) => a.metric_name === "FreeableMemory");
      for (const alarm of memoryAlarms) expect(alarm.threshold).toBe(`\${(local.${local} * 0.1)}`);
    }
  });

  it("gives staging and prod one read replica each, for analytics reads, and dev none", () => {
    const replicas = (env: string) => resourcesOfType(instanceStack(env), "aws_db_instance").filter((db) => db.replicate_source_db !== undefined);
    expect(replicas("dev")).toEqual([]);
    for (const env of ["staging", "prod"]) {
      expect(replicas(env).map((r) => r.identifier)).toEqual([`pulse-analytics-${env}-replica-1`]);
      expect(replicas(env)[0]).toMatchObject({ instance_class: primaryInstance(instanceStack(env)).instance_class, multi_az: false });
    }
    expect(instanceStack("prod").output.pulse_analytics_db_reader_host.value).toMatch(/^\$\{aws_db_instance\.[^.]*replica-1[^.]*\.address\}$/);
    expect(instanceStack("dev").output.pulse_analytics_db_reader_host.value).toBe(instanceStack("dev").output.pulse_analytics_db_host.value);
    expect(databaseStack("prod").output.pulse_analytics_db_reader_host.value).toBe(
      "${data.terraform_remote_state.instance.outputs.pulse_analytics_db_reader_host}",
    );
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
    expect(instanceStack("prod").resource.aws_iam_role).toBeDefined();
    const ceilings = ENVIRONMENTS.map((env) => defaultOf(env, "pulse_analytics_db_max_storage_gb"));
    expect(Math.max(...ceilings)).toBe(defaultOf("prod", "pulse_analytics_db_max_storage_gb"));
  });
});

// The CI roles may create a resource only when the create request carries the environment's
// project and environment tags (stacks/ci-role-policies.ts). The stacks put them in their aws
// providers' default_tags, which the provider merges into every create request, under the resource's
// own tags (terraform-provider-aws 6.25.0, package internal/provider/sdkv2, tagsResourceCRUDInterceptor.run
// before Create: `tags := c.DefaultTagsConfig(ctx).MergeTags(tftags.New(ctx, d.Get(names.AttrTags)))` into
// `TagsIn`, which each service's create call sends as getTagsIn(ctx); tagsResourceInterceptor.create in
// internal/provider/framework does the same for framework resources such as aws_vpc_security_group_ingress_rule).
describe("tags", () => {
  // Resources AWS does not tag.
  const untaggable = new Set(["aws_secretsmanager_secret_version", "aws_iam_role_policy_attachment", "aws_kms_alias", "aws_sns_topic_policy"]);
  const providerDefaultTags = (json: (typeof stacks)[string]) => json.provider.aws[0].default_tags[0].tags as Record<string, string>;

  it.each(ENVIRONMENTS)("%s: both stacks' aws providers tag everything with the project, the environment and managed-by", (env) => {
    for (const json of [instanceStack(env), databaseStack(env)]) {
      expect(providerDefaultTags(json)).toEqual({ project: "pulse", environment: env, "managed-by": "cdktf" });
    }
  });

  it.each(ENVIRONMENTS)("%s: every create request carries the tags the CI roles' policies require, which no resource's own tags override", (env) => {
    for (const json of [instanceStack(env), databaseStack(env)]) {
      const taggable = Object.keys(json.resource).filter((type) => type.startsWith("aws_") && !untaggable.has(type));
      for (const type of taggable) {
        for (const block of resourcesOfType(json, type)) {
          const requestTags = { ...providerDefaultTags(json), ...(block.tags ?? {}) };
          expect({ type, requestTags }).toEqual({
            type,
            requestTags: expect.objectContaining({ project: "pulse", environment: env, component: "analytics-postgres" }),
          });
        }
      }
    }
  });
});

describe("input variables", () => {
  const OPERATOR_VARIABLES = [
    "pulse_analytics_db_instance_class",
    "pulse_analytics_db_storage_gb",
    "pulse_analytics_db_iops",
    "pulse_analytics_db_storage_throughput_mibps",
    "pulse_analytics_db_max_storage_gb",
    "pulse_analytics_db_multi_az",
    "pulse_analytics_db_backup_retention_days",
    "pulse_analytics_db_vpc_id",
    "pulse_analytics_db_subnet_ids",
    "pulse_analytics_db_allowed_security_group_ids",
    "pulse_analytics_db_allowed_cidr_blocks",
  ];

  it.each(ENVIRONMENTS)("let an operator re-size and re-point %s-instance, and tunnel %s's provider, without a code change", (env) => {
    expect(Object.keys(instanceStack(env).variable).sort()).toEqual([...OPERATOR_VARIABLES, "aws_region"].sort());
    expect(Object.keys(databaseStack(env).variable).sort()).toEqual(["aws_region", "pulse_analytics_db_admin_host", "pulse_analytics_db_admin_port"]);
  });

  it.each(ENVIRONMENTS)("default to %s's config", (env) => {
    const config = environments[env];
    const variables = instanceStack(env).variable;
    expect({
      instanceClass: variables.pulse_analytics_db_instance_class.default,
      storage: variables.pulse_analytics_db_storage_gb.default,
      iops: variables.pulse_analytics_db_iops.default,
      maxStorage: variables.pulse_analytics_db_max_storage_gb.default,
      multiAz: variables.pulse_analytics_db_multi_az.default,
      backups: variables.pulse_analytics_db_backup_retention_days.default,
    }).toEqual({
      instanceClass: config.instanceClass,
      storage: config.allocatedStorageGb,
      iops: config.iops ?? null,
      maxStorage: config.maxAllocatedStorageGb,
      multiAz: config.multiAz,
      backups: config.backupRetentionDays,
    });
  });

  it("leave the network required when the config does not name it, and default to it when it does", () => {
    const vpc = instanceStack("dev").variable.pulse_analytics_db_vpc_id;
    expect(vpc).not.toHaveProperty("default");
    expect(instanceStack("dev").variable.pulse_analytics_db_subnet_ids).not.toHaveProperty("default");

    const withNetwork = synthApp({
      environments: {
        ...environments,
        dev: {
          ...environments.dev,
          vpcId: "vpc-0a1b2c3d",
          subnetIds: ["subnet-0a1b2c3d", "subnet-1a2b3c4d"],
          allowedSecurityGroupIds: ["sg-0a1b2c3d"],
        },
      },
    });
    expect(withNetwork["dev-instance"].variable.pulse_analytics_db_vpc_id.default).toBe("vpc-0a1b2c3d");
    expect(withNetwork["dev-instance"].variable.pulse_analytics_db_subnet_ids.default).toEqual(["subnet-0a1b2c3d", "subnet-1a2b3c4d"]);
  });

  it.each(OPERATOR_VARIABLES.filter((v) => v !== "pulse_analytics_db_multi_az"))("%s carries a validation block naming itself", (name) => {
    for (const env of ENVIRONMENTS) {
      const validation = instanceStack(env).variable[name].validation as Array<{ condition: string; error_message: string }>;
      expect(validation.length).toBeGreaterThan(0);
      for (const v of validation) {
        expect(v.condition).toContain(`var.${name}`);
        expect(v.error_message).toMatch(new RegExp(`^${name}: allowed is .+\\.$`));
      }
    }
  });

  it("feed the constructs: the instance reads the sizing, the postgresql provider the tunnel", () => {
    const db = primaryInstance(instanceStack("prod"));
    expect(db).toMatchObject({
      instance_class: "${var.pulse_analytics_db_instance_class}",
      allocated_storage: "${var.pulse_analytics_db_storage_gb}",
      iops: "${var.pulse_analytics_db_iops}",
      storage_throughput: "${var.pulse_analytics_db_storage_throughput_mibps}",
      max_allocated_storage: "${var.pulse_analytics_db_max_storage_gb}",
      multi_az: "${var.pulse_analytics_db_multi_az}",
      backup_retention_period: "${var.pulse_analytics_db_backup_retention_days}",
    });
    expect(onlyResource(instanceStack("prod"), "aws_security_group").vpc_id).toBe("${var.pulse_analytics_db_vpc_id}");
    for (const env of ["prod-instance", "prod"]) expect(stacks[env].provider.aws[0].region).toBe("${var.aws_region}");
    expect(databaseStack("prod").provider.postgresql[0].host).toMatch(/^\$\{coalesce\(var\.pulse_analytics_db_admin_host, /);
  });
});

describe("outputs", () => {
  // What db:url and the runbook read: all of it from the environment's database stack (`<env>`).
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
    "pulse_analytics_db_reader_host",
    "pulse_analytics_db_reader_endpoints",
  ];
  const INSTANCE_OUTPUTS = [
    "pulse_analytics_db_host",
    "pulse_analytics_db_port",
    "pulse_analytics_db_endpoint",
    "pulse_analytics_db_master_secret_arn",
    "pulse_analytics_db_security_group_id",
    "pulse_analytics_db_kms_key_arn",
    "pulse_analytics_db_master_username",
    "pulse_analytics_db_resource_ids",
    "pulse_analytics_db_reader_host",
    "pulse_analytics_db_reader_endpoints",
  ];

  it.each(ENVIRONMENTS)("%s has exactly the documented outputs, and %s-instance those the database stack reads", (env) => {
    expect(Object.keys(databaseStack(env).output).sort()).toEqual([...OUTPUTS].sort());
    // Staging and prod send their RDS events to a topic (dev does not).
    const notifying = env === "dev" ? [] : ["pulse_analytics_db_notification_topic_arn"];
    expect(Object.keys(instanceStack(env).output).sort()).toEqual([...INSTANCE_OUTPUTS, ...notifying].sort());
  });

  it("give, per login role, its secret, or for a role that signs in with IAM the policy to attach", () => {
    const prod = synthApp({ environments: { ...environments, prod: { ...environments.prod, iamAuthenticatedRoles: ["app"] } } }).prod;
    expect(Object.keys(prod.output)).not.toContain("pulse_analytics_db_app_secret_arn");
    expect(prod.output.pulse_analytics_db_app_connect_policy_arn.value).toMatch(/^\$\{aws_iam_policy\..+\.arn\}$/);
    expect(prod.output.pulse_analytics_db_readonly_secret_arn.value).toMatch(/^\$\{aws_secretsmanager_secret\..+\.arn\}$/);
  });

  it("point at the instance, the database, the app role and the secrets' ARNs", () => {
    const value = (name: string) => instanceStack("prod").output[name].value;
    expect(value("pulse_analytics_db_host")).toMatch(/^\$\{aws_db_instance\..+\.address\}$/);
    expect(value("pulse_analytics_db_port")).toMatch(/^\$\{aws_db_instance\..+\.port\}$/);
    expect(value("pulse_analytics_db_endpoint")).toMatch(/^\$\{aws_db_instance\..+\.endpoint\}$/);
    expect(value("pulse_analytics_db_master_secret_arn")).toMatch(/^\$\{aws_db_instance\..+\.master_user_secret\[0\]\.secret_arn\}$/);
    expect(value("pulse_analytics_db_security_group_id")).toMatch(/^\$\{aws_security_group\..+\.id\}$/);
    expect(value("pulse_analytics_db_kms_key_arn")).toMatch(/^\$\{aws_kms_key\..+\.arn\}$/);
    expect(value("pulse_analytics_db_resource_ids")).toEqual([
      expect.stringMatching(/^\$\{aws_db_instance\.[^.]*instance[^.]*\.resource_id\}$/),
      expect.stringMatching(/^\$\{aws_db_instance\.[^.]*replica-1[^.]*\.resource_id\}$/),
    ]);

    const passed = (name: string) => databaseStack("prod").output[name].value;
    for (const name of ["host", "port", "endpoint", "master_secret_arn", "security_group_id"]) {
      expect(passed(`pulse_analytics_db_${name}`)).toBe(`\${data.terraform_remote_state.instance.outputs.pulse_analytics_db_${name}}`);
    }
    expect(passed("pulse_analytics_db_name")).toBe("pulse_analytics");
    expect(passed("pulse_analytics_db_user")).toBe("pulse_analytics_app_a");
    for (const role of ["app", "migrator", "readonly"]) {
      expect(passed(`pulse_analytics_db_${role}_secret_arn`)).toMatch(/^\$\{aws_secretsmanager_secret\..+\.arn\}$/);
    }
  });
});

describe("state backend", () => {
  it("is a local file per stack at the project root when no bucket is configured", () => {
    for (const name of Object.keys(stacks)) {
      expect(stacks[name].terraform.backend).toEqual({ local: { path: `../../../terraform.${name}.tfstate` } });
    }
  });

  it("is S3, encrypted, with S3-native locking and a key per stack when a bucket is configured", () => {
    const s3 = synthApp({ stateBackend: { bucket: "pulse-tf-state", region: "eu-central-1" } });
    for (const name of Object.keys(s3)) {
      expect(s3[name].terraform.backend).toEqual({
        s3: {
          bucket: "pulse-tf-state",
          region: "eu-central-1",
          key: `pulse-analytics/${name}/terraform.tfstate`,
          encrypt: true,
          use_lockfile: true,
        },
      });
    }
  });

  it("is read from PULSE_TF_STATE_BUCKET and PULSE_TF_STATE_REGION, both or neither", () => {
    expect(stateLocationFromEnvironment({})).toBeUndefined();
    expect(stateLocationFromEnvironment({ PULSE_TF_STATE_BUCKET: "b", PULSE_TF_STATE_REGION: "eu-west-1" })).toEqual({
      bucket: "b",
      region: "eu-west-1",
    });
    expect(() => stateLocationFromEnvironment({ PULSE_TF_STATE_BUCKET: "b" })).toThrow(
      "PULSE_TF_STATE_REGION is not set but PULSE_TF_STATE_BUCKET is: set both for S3 state, or neither for local state.",
    );
    expect(() => stateLocationFromEnvironment({ PULSE_TF_STATE_REGION: "eu-west-1" })).toThrow(InvalidInputError);
  });
});

describe("a bad environment config", () => {
  const withBadProd = (prod: Partial<EnvironmentConfig>) => ({ ...environments, prod: { ...environments.prod, ...prod } });

  it.each([
    [
      { backupRetentionDays: 3 },
      "environments.prod: invalid backupRetentionDays: 3. Allowed: a whole number of days from 7 to 35 (minimumBackupRetentionDays keeps at least 7 days",
    ],
    [{ instanceClass: "db.t4g.huge" }, 'environments.prod: invalid instanceClass: "db.t4g.huge"'],
    [
      { maxAllocatedStorageGb: 100 },
      "environments.prod: invalid maxAllocatedStorageGb: 100. Allowed: a whole number of GiB at least 10% above allocatedStorageGb (100, so at least 110)",
    ],
    [{ allowedCidrBlocks: ["0.0.0.0/0"] }, 'environments.prod: invalid allowedCidrBlocks: ["0.0.0.0/0"]'],
    [
      { allocatedStorageGb: 400, maxAllocatedStorageGb: 1000 },
      "environments.prod: invalid allocatedStorageGb: 400. Allowed: below 400 GiB, or from 400 GiB with iops",
    ],
    [
      { allowMajorVersionUpgrade: true },
      "environments.prod: invalid allowMajorVersionUpgrade: true. Allowed: false, or true together with applyImmediately: true",
    ],
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
