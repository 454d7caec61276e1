// What the PulseAnalyticsPostgres construct provisions, read off its synthesized Terraform JSON.

import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { CI_ROLE_SESSION_SECONDS } from "../../stacks/bootstrap-stack";
import { AwsProvider } from "@cdktf/provider-aws/lib/provider";
import { TerraformStack, TerraformVariable, Testing } from "cdktf";
import { PulseAnalyticsDatabase, PulseAnalyticsPostgres } from "../../src";
import { constructProps, onlyResource, resourcesOfType, stackWithConstruct, synthConstruct, TerraformJson } from "../support/synth";

const synth = (overrides = {}): TerraformJson => JSON.parse(synthConstruct(overrides));

describe("the RDS instance", () => {
  const json = synth();
  const instance = onlyResource(json, "aws_db_instance");

  it("runs PostgreSQL 17 by default, pinned to the major so automatic minor upgrades cause no drift", () => {
    expect(instance).toMatchObject({ engine: "postgres", engine_version: "17", auto_minor_version_upgrade: true });
  });

  it.each([16, 17, 18] as const)("pins major %i with a parameter group of that major's family", (major) => {
    const out = synthConstruct({ engineMajorVersion: major });
    expect(out).toHaveResourceWithProperties(DbInstance, { engine_version: String(major) });
    expect(out).toHaveResourceWithProperties(DbParameterGroup, { family: `postgres${major}` });
  });

  // Finding 10 of issue 9: with a major alone RDS upgrades to the major's default minor (ModifyDBInstance,
  // EngineVersion), which may not be a valid target from the running minor (terraform-aws-modules/
  // terraform-aws-rds#627: "Cannot upgrade postgres from 16.13 to 17.6"); a major upgrade deferred to
  // the window keeps the old parameter group attached, and its delete fails every apply until then
  // (aws provider resourceParameterGroupDelete retries InvalidDBParameterGroupStateFault for 3 minutes).
  it("upgrades a major only at once, to a pinned minor when one is given", () => {
    const upgrade = onlyResource(
      synth({ engineMajorVersion: 18, engineVersion: "18.1", allowMajorVersionUpgrade: true, applyImmediately: true }),
      "aws_db_instance",
    );
    expect(upgrade).toMatchObject({ engine_version: "18.1", allow_major_version_upgrade: true, apply_immediately: true });
    expect(() => synth({ engineMajorVersion: 18, allowMajorVersionUpgrade: true })).toThrow(
      "invalid allowMajorVersionUpgrade: true. Allowed: false, or true together with applyImmediately: true",
    );
  });

  it("uses a current RDS certificate authority and stays out of paid Extended Support", () => {
    expect(instance.ca_cert_identifier).toBe("rds-ca-rsa2048-g1");
    expect(instance.engine_lifecycle_support).toBe("open-source-rds-extended-support-disabled");
  });

  it("stores data on gp3, encrypted with the construct's customer-managed key, with autoscaling headroom", () => {
    const keyArn = `\${aws_kms_key.${Object.keys(json.resource.aws_kms_key)[0]}.arn}`;
    expect(instance).toMatchObject({
      storage_type: "gp3",
      storage_encrypted: true,
      kms_key_id: keyArn,
      allocated_storage: 20,
      max_allocated_storage: 100,
    });
    expect(instance.max_allocated_storage).toBeGreaterThan(instance.allocated_storage);
  });

  it("creates the key with rotation on", () => {
    expect(JSON.stringify(json)).toHaveResourceWithProperties(KmsKey, { enable_key_rotation: true });
  });

  it("uses a key passed in instead of creating one, for storage, master secret, login secrets and Performance Insights", () => {
    const kmsKeyArn = "arn:aws:kms:eu-central-1:123456789012:key/0a1b2c3d-1111-2222-3333-444455556666";
    const out = synth({ kmsKeyArn, performanceInsights: true });
    expect(out.resource.aws_kms_key).toBeUndefined();
    const db = onlyResource(out, "aws_db_instance");
    expect([db.kms_key_id, db.master_user_secret_kms_key_id, db.performance_insights_kms_key_id]).toEqual([kmsKeyArn, kmsKeyArn, kmsKeyArn]);
    expect(resourcesOfType(out, "aws_secretsmanager_secret").map((s) => s.kms_key_id)).toEqual([kmsKeyArn, kmsKeyArn, kmsKeyArn]);
  });

  it("lets RDS generate and keep the master password in Secrets Manager, encrypted with the key", () => {
    expect(instance.manage_master_user_password).toBe(true);
    expect(instance.master_user_secret_kms_key_id).toBe(instance.kms_key_id);
    expect(instance).not.toHaveProperty("password");
    expect(instance).not.toHaveProperty("password_wo");
  });

  it("is private, in the given subnets, behind its own security group, with IAM authentication on", () => {
    expect(instance.publicly_accessible).toBe(false);
    expect(instance.iam_database_authentication_enabled).toBe(true);
    expect(onlyResource(json, "aws_db_subnet_group").subnet_ids).toEqual(["subnet-0a1b2c3d4e5f60718", "subnet-1a2b3c4d5e6f70819"]);
    expect(instance.vpc_security_group_ids).toEqual([`\${aws_security_group.${Object.keys(json.resource.aws_security_group)[0]}.id}`]);
  });

  it("joins an existing DB subnet group instead of creating one when dbSubnetGroupName is given", () => {
    const byo = synth({ subnetIds: undefined, dbSubnetGroupName: "platform-private-databases" });
    expect(byo.resource.aws_db_subnet_group).toBeUndefined();
    expect(onlyResource(byo, "aws_db_instance").db_subnet_group_name).toBe("platform-private-databases");
    expect(instance.db_subnet_group_name).toBe(`\${aws_db_subnet_group.${Object.keys(json.resource.aws_db_subnet_group)[0]}.name}`);
  });

  it("keeps backups, copies tags to snapshots and takes a named final snapshot by default", () => {
    expect(instance).toMatchObject({
      backup_retention_period: 7,
      copy_tags_to_snapshot: true,
      skip_final_snapshot: false,
      final_snapshot_identifier: "pulse-analytics-dev-final-snapshot",
      deletion_protection: true,
    });
  });

  it("skips the final snapshot only when told to, and then names none", () => {
    const db = onlyResource(synth({ skipFinalSnapshot: true }), "aws_db_instance");
    expect(db.skip_final_snapshot).toBe(true);
    expect(db).not.toHaveProperty("final_snapshot_identifier");
  });

  it("turns Multi-AZ, deletion protection and Performance Insights (with the key) on and off as configured", () => {
    const on = onlyResource(
      synth({ multiAz: true, deletionProtection: true, performanceInsights: true, performanceInsightsRetentionDays: 31 }),
      "aws_db_instance",
    );
    expect(on).toMatchObject({
      multi_az: true,
      deletion_protection: true,
      performance_insights_enabled: true,
      performance_insights_retention_period: 31,
    });
    expect(on.performance_insights_kms_key_id).toBe(on.kms_key_id);
    const off = onlyResource(synth({ multiAz: false, deletionProtection: false, performanceInsights: false }), "aws_db_instance");
    expect(off).toMatchObject({ multi_az: false, deletion_protection: false, performance_insights_enabled: false });
    expect(off).not.toHaveProperty("performance_insights_kms_key_id");
  });

  it("creates an Enhanced Monitoring role only when monitoring is on, and waits for its policy", () => {
    expect(json.resource.aws_iam_role).toBeUndefined();
    expect(instance.monitoring_interval).toBe(0);

    const out = synth({ monitoringIntervalSeconds: 15 });
    const role = onlyResource(out, "aws_iam_role");
    expect(JSON.parse(role.assume_role_policy)).toMatchObject({
      Statement: [{ Principal: { Service: "monitoring.rds.amazonaws.com" }, Action: "sts:AssumeRole" }],
    });
    expect(onlyResource(out, "aws_iam_role_policy_attachment").policy_arn).toMatch(
      /^arn:\$\{data\.aws_partition\..+\.partition\}:iam::aws:policy\/service-role\/AmazonRDSEnhancedMonitoringRole$/,
    );
    const db = onlyResource(out, "aws_db_instance");
    expect(db.monitoring_interval).toBe(15);
    expect(db.monitoring_role_arn).toMatch(/^\$\{aws_iam_role\..+\.arn\}$/);
    expect(db.depends_on.some((d: string) => d.startsWith("aws_iam_role_policy_attachment."))).toBe(true);
  });

  it("exports the postgresql and upgrade logs into log groups with a retention, created first", () => {
    expect(instance.enabled_cloudwatch_logs_exports).toEqual(["postgresql", "upgrade"]);
    const groups = resourcesOfType(json, "aws_cloudwatch_log_group");
    expect(groups.map((g) => [g.name, g.retention_in_days])).toEqual([
      ["/aws/rds/instance/pulse-analytics-dev/postgresql", 30],
      ["/aws/rds/instance/pulse-analytics-dev/upgrade", 30],
    ]);
    expect(instance.depends_on.filter((d: string) => d.startsWith("aws_cloudwatch_log_group."))).toHaveLength(2);
  });
});

// Finding 3 of issue 9 (protected data) and finding 12 (waits that outlast the credentials).
describe("protection and waiting", () => {
  it("keeps a protected instance and its KMS key from being destroyed or replaced by any plan, and lets an unprotected one go", () => {
    // prevent_destroy: Terraform refuses at plan time a plan that would destroy the resource (Terraform
    // docs, "The lifecycle meta-argument"); AWS's deletion protection alone fails only halfway through apply.
    const on = synth({ deletionProtection: true });
    expect(onlyResource(on, "aws_db_instance")).toMatchObject({ deletion_protection: true, lifecycle: { prevent_destroy: true } });
    expect(onlyResource(on, "aws_kms_key").lifecycle).toEqual({ prevent_destroy: true });
    const off = synth({ deletionProtection: false });
    expect(onlyResource(off, "aws_db_instance")).toMatchObject({ deletion_protection: false, lifecycle: { prevent_destroy: false } });
    expect(onlyResource(off, "aws_kms_key").lifecycle).toEqual({ prevent_destroy: false });
  });

  it("waits on the instance at most 60 minutes per step, inside the CI roles' 2-hour sessions", () => {
    // hashicorp/aws 6.25.0's defaults are create 50m, update 80m, delete 60m (internal/service/rds/instance.go,
    // resourceInstance Timeouts); dbInstanceModify retries "previous storage change is being optimized"
    // for the whole update timeout, longer than the 1-hour session configure-aws-credentials asks for by default.
    const timeouts = onlyResource(synth(), "aws_db_instance").timeouts;
    expect(timeouts).toEqual({ create: "60m", update: "60m", delete: "60m" });
    const minutes = Object.values(timeouts as Record<string, string>).map((t) => Number(t.replace("m", "")));
    expect(Math.max(...minutes) * 60).toBeLessThan(CI_ROLE_SESSION_SECONDS);
  });
});

// Finding 6 of issue 9. AWS KMS: permissions an IAM policy grants by a key's tags take up to five
// minutes to apply ("ABAC for AWS KMS"), while RDS and Secrets Manager use a new key seconds after it
// is created; a key policy that names a principal of the account suffices on its own ("Key policies in
// AWS KMS"), and the default statement for the account root keeps IAM policies working.
describe("the KMS key policy", () => {
  const role = (name: string) =>
    expect.stringMatching(
      new RegExp(`^arn:\\$\\{data\\.aws_partition\\..+\\.partition\\}:iam::\\$\\{data\\.aws_caller_identity\\..+\\.account_id\\}:role/${name}$`),
    );
  const apply = role("pulse-analytics-dev-apply");
  const plan = role("pulse-analytics-dev-plan");
  const policyOf = (overrides = {}) => JSON.parse(onlyResource(synth(overrides), "aws_kms_key").policy);
  const statement = (policy: any, sid: string) => policy.Statement.find((s: any) => s.Sid === sid);

  it("keeps the account root, so IAM policies of the account still grant access to the key", () => {
    expect(statement(policyOf(), "AccountIamPolicies")).toEqual({
      Sid: "AccountIamPolicies",
      Effect: "Allow",
      Principal: {
        AWS: expect.stringMatching(/^arn:\$\{data\.aws_partition\..+\.partition\}:iam::\$\{data\.aws_caller_identity\..+\.account_id\}:root$/),
      },
      Action: "kms:*",
      Resource: "*",
    });
  });

  it("names the administrators: key administration, use through RDS and Secrets Manager only, grants for AWS services only", () => {
    const policy = policyOf({ kmsKeyAdministratorRoleNames: ["pulse-analytics-dev-apply"] });
    expect(statement(policy, "Administer")).toMatchObject({ Principal: { AWS: [apply] } });
    expect(statement(policy, "Administer").Action).toEqual(
      expect.arrayContaining(["kms:PutKeyPolicy", "kms:EnableKeyRotation", "kms:TagResource", "kms:ScheduleKeyDeletion"]),
    );
    expect(statement(policy, "Administer").Action).not.toContain("kms:Decrypt");
    expect(statement(policy, "UseThroughRdsAndSecretsManager")).toMatchObject({
      Principal: { AWS: [apply] },
      Condition: {
        StringEquals: {
          "kms:ViaService": [expect.stringMatching(/^rds\..+\.amazonaws\.com$/), expect.stringMatching(/^secretsmanager\..+\.amazonaws\.com$/)],
        },
      },
    });
    expect(statement(policy, "GrantToAwsServices")).toMatchObject({ Condition: { Bool: { "kms:GrantIsForAWSResource": "true" } } });
  });

  it("lets the users describe the key and decrypt through Secrets Manager, nothing more", () => {
    const policy = policyOf({ kmsKeyUserRoleNames: ["pulse-analytics-dev-plan"] });
    expect(statement(policy, "Describe").Action).toEqual(["kms:DescribeKey", "kms:GetKeyPolicy", "kms:GetKeyRotationStatus", "kms:ListResourceTags"]);
    expect(statement(policy, "ReadSecrets")).toMatchObject({
      Principal: { AWS: [plan] },
      Action: "kms:Decrypt",
      Condition: { StringEquals: { "kms:ViaService": [expect.stringMatching(/^secretsmanager\./)] } },
    });
  });

  it("has only the root statement when no role is named and no events topic is encrypted with it", () => {
    expect(policyOf({ eventNotifications: false, alarms: false }).Statement.map((s: any) => s.Sid)).toEqual(["AccountIamPolicies"]);
    expect(policyOf({ notificationTopicArn: "arn:aws:sns:eu-central-1:123456789012:ops" }).Statement.map((s: any) => s.Sid)).toEqual([
      "AccountIamPolicies",
    ]);
  });

  // Amazon SNS Developer Guide, "Key management": a service publishing to an encrypted topic needs
  // kms:GenerateDataKey* and kms:Decrypt on the topic's key.
  it("lets RDS events and CloudWatch alarms encrypt for the topic it encrypts (whose policy admits only this account's)", () => {
    const statement = policyOf().Statement.find((s: any) => s.Sid === "PublishToEncryptedTopic");
    expect(policyOf({ alarms: false }).Statement.find((s: any) => s.Sid === "PublishToEncryptedTopic").Principal).toEqual({
      Service: "events.rds.amazonaws.com",
    });
    expect(statement).toEqual({
      Sid: "PublishToEncryptedTopic",
      Effect: "Allow",
      Principal: { Service: ["events.rds.amazonaws.com", "cloudwatch.amazonaws.com"] },
      Action: ["kms:GenerateDataKey*", "kms:Decrypt"],
      Resource: "*",
    });
  });
});

describe("the parameter group", () => {
  const parameters = (overrides = {}): Record<string, string> =>
    Object.fromEntries(onlyResource(synth(overrides), "aws_db_parameter_group").parameter.map((p: any) => [p.name, p.value]));

  it("forces TLS and logs connections, disconnections and statements slower than a second", () => {
    expect(parameters()).toMatchObject({
      "rds.force_ssl": "1",
      log_connections: "1",
      log_disconnections: "1",
      log_min_duration_statement: "1000",
    });
  });

  it("logs connections with PostgreSQL 18's list syntax on 18", () => {
    expect(parameters({ engineMajorVersion: 18 }).log_connections).toBe("receipt,authentication,authorization");
  });

  it("takes the slow-statement threshold from slowStatementThresholdMs", () => {
    expect(parameters({ slowStatementThresholdMs: 250 }).log_min_duration_statement).toBe("250");
  });

  it("takes the caller's parameters over its own, by name, with pending-reboot for a static one, and keeps TLS on", () => {
    const group = onlyResource(
      synth({ parameters: { work_mem: "16384", log_connections: "0", "rds.logical_replication": { value: "1", applyMethod: "pending-reboot" } } }),
      "aws_db_parameter_group",
    );
    expect(group.parameter).toEqual([
      { name: "rds.force_ssl", value: "1" },
      { name: "log_connections", value: "0" },
      { name: "log_disconnections", value: "1" },
      { name: "log_min_duration_statement", value: "1000" },
      { name: "log_lock_waits", value: "1" },
      { name: "rds.logical_replication", value: "1", apply_method: "pending-reboot" },
      { name: "work_mem", value: "16384" },
    ]);
  });

  it("is created before the old one is destroyed, so a major upgrade can switch families", () => {
    const group = onlyResource(synth(), "aws_db_parameter_group");
    expect(group.lifecycle).toEqual({ create_before_destroy: true });
    expect(group.name_prefix).toBe("pulse-analytics-dev-postgres17-");
  });
});

describe("the security group", () => {
  const json = synth({ allowedSecurityGroupIds: ["sg-0a1b2c3d4e5f60718"], allowedCidrBlocks: ["10.20.0.0/16", "2001:db8::/48"] });
  const rules = resourcesOfType(json, "aws_vpc_security_group_ingress_rule");

  it("has no inline rules and no egress", () => {
    const group = onlyResource(json, "aws_security_group");
    expect(group).not.toHaveProperty("ingress");
    expect(group).not.toHaveProperty("egress");
    expect(json.resource.aws_vpc_security_group_egress_rule).toBeUndefined();
  });

  it("admits the database port from each given security group and CIDR block, each rule described", () => {
    expect(rules).toHaveLength(2);
    for (const rule of rules) {
      expect(rule).toMatchObject({ ip_protocol: "tcp", from_port: 5432, to_port: 5432 });
      expect(rule.description).toMatch(/^PostgreSQL from /);
    }
    const fromGroups = rules.find((r) => r.referenced_security_group_id);
    expect(fromGroups).toMatchObject({ for_each: '${toset(["sg-0a1b2c3d4e5f60718"])}', referenced_security_group_id: "${each.value}" });
    const fromCidrs = rules.find((r) => r.cidr_ipv4);
    expect(fromCidrs!.for_each).toBe('${toset(["10.20.0.0/16", "2001:db8::/48"])}');
    // IPv6 blocks go to cidr_ipv6, IPv4 to cidr_ipv4.
    expect(fromCidrs!.cidr_ipv4).toBe('${strcontains(each.value, ":") ? null : each.value}');
    expect(fromCidrs!.cidr_ipv6).toBe('${strcontains(each.value, ":") ? each.value : null}');
  });

  it("follows a custom port", () => {
    const custom = resourcesOfType(synth({ port: 6432 }), "aws_vpc_security_group_ingress_rule");
    expect(custom.every((r) => r.from_port === 6432 && r.to_port === 6432)).toBe(true);
  });
});

describe("tags", () => {
  // Resources AWS does not tag.
  const untaggable = new Set(["aws_secretsmanager_secret_version", "aws_iam_role_policy_attachment", "aws_kms_alias", "aws_sns_topic_policy"]);

  it("sets its component and the caller's tags on every taggable AWS resource, and leaves stack-wide tags to the provider's default_tags", () => {
    const json = synth({ monitoringIntervalSeconds: 60, tags: { "cost-center": "learning" } });
    const taggable = Object.keys(json.resource).filter((type) => type.startsWith("aws_") && !untaggable.has(type));
    expect(taggable.length).toBeGreaterThanOrEqual(9);
    for (const type of taggable) {
      for (const block of resourcesOfType(json, type)) {
        expect({ type, tags: block.tags }).toEqual({
          type,
          tags: expect.objectContaining({ component: "analytics-postgres", "cost-center": "learning" }),
        });
      }
    }
  });
});

describe("two databases in one stack", () => {
  function twoInOneStack(secondIdentifier: string) {
    const stack = new TerraformStack(Testing.app(), "two");
    new AwsProvider(stack, "aws", { region: "eu-central-1" });
    for (const [id, identifier] of [
      ["first", "pulse-analytics-dev"],
      ["second", secondIdentifier],
    ] as const) {
      const props = constructProps({ identifier });
      const instance = new PulseAnalyticsPostgres(stack, `${id}-instance`, props);
      new PulseAnalyticsDatabase(stack, `${id}-database`, { ...props, instance: instance.connection });
    }
    return JSON.parse(Testing.synth(stack));
  }

  it("synthesize side by side with an identifier each: instances, secrets, KMS aliases and provider aliases all distinct", () => {
    const json = twoInOneStack("pulse-analytics-dev-2");
    const identifiers = resourcesOfType(json, "aws_db_instance").map((i) => i.identifier);
    const secretNames = resourcesOfType(json, "aws_secretsmanager_secret").map((s) => s.name);
    const kmsAliases = resourcesOfType(json, "aws_kms_alias").map((a) => a.name);
    const providerAliases = json.provider.postgresql.map((p: { alias: string }) => p.alias);
    for (const names of [identifiers, secretNames, kmsAliases, providerAliases]) expect(new Set(names).size).toBe(names.length);
    expect(identifiers.sort()).toEqual(["pulse-analytics-dev", "pulse-analytics-dev-2"]);
    expect(providerAliases.sort()).toEqual(["pulse_analytics_dev_2_admin", "pulse_analytics_dev_admin"]);
  });

  it("are refused at synth, naming both, when they share an identifier", () => {
    expect(() => twoInOneStack("pulse-analytics-dev")).toThrow(
      'PulseAnalyticsPostgres two/second-instance: identifier "pulse-analytics-dev" is already used by two/first-instance in stack two: ' +
        "give each database in a stack its own identifier (the identifier prop).",
    );
  });
});

describe("what a caller brings and adds", () => {
  it("joins the caller's security groups besides its own", () => {
    const instance = onlyResource(synth({ additionalSecurityGroupIds: ["sg-0123456789abcdef0"] }), "aws_db_instance");
    expect(instance.vpc_security_group_ids).toHaveLength(2);
    expect(instance.vpc_security_group_ids[1]).toBe("sg-0123456789abcdef0");
  });

  it("uses the caller's Enhanced Monitoring role instead of creating one", () => {
    const roleArn = "arn:aws:iam::123456789012:role/rds-monitoring";
    const json = synth({ monitoringIntervalSeconds: 60, monitoringRoleArn: roleArn });
    expect(onlyResource(json, "aws_db_instance").monitoring_role_arn).toBe(roleArn);
    expect(resourcesOfType(json, "aws_iam_role")).toEqual([]);
  });

  it("admits one more source with allowIngressFrom: a security group or a CIDR block, on the database port", () => {
    const { stack, instance } = stackWithConstruct({ allowedSecurityGroupIds: [], allowedCidrBlocks: ["10.20.0.0/16"] });
    instance.allowIngressFrom({ securityGroupId: "sg-0fedcba9876543210" });
    instance.allowIngressFrom({ cidrBlock: "2001:db8::/48" }, { description: "the analysts' VPN" });
    const added = resourcesOfType(JSON.parse(Testing.synth(stack)), "aws_vpc_security_group_ingress_rule")
      .filter((r) => !r.for_each)
      .sort((a, b) => (a.description < b.description ? -1 : 1));
    expect(
      added.map(({ referenced_security_group_id, cidr_ipv4, cidr_ipv6, description, from_port, to_port }) => ({
        referenced_security_group_id,
        cidr_ipv4,
        cidr_ipv6,
        description,
        from_port,
        to_port,
      })),
    ).toEqual([
      {
        referenced_security_group_id: "sg-0fedcba9876543210",
        cidr_ipv4: undefined,
        cidr_ipv6: undefined,
        description: "PostgreSQL from security group sg-0fedcba9876543210",
        from_port: 5432,
        to_port: 5432,
      },
      {
        referenced_security_group_id: undefined,
        cidr_ipv4: undefined,
        cidr_ipv6: "2001:db8::/48",
        description: "the analysts' VPN",
        from_port: 5432,
        to_port: 5432,
      },
    ]);
  });

  it("refuses a bad source, the same source twice, or a plan-time source without an id, naming the fix", () => {
    const { instance } = stackWithConstruct();
    expect(() => instance.allowIngressFrom({ cidrBlock: "0.0.0.0/0" })).toThrow(
      'allowIngressFrom({"cidrBlock":"0.0.0.0/0"}): allowed is distinct IPv4 or IPv6 network addresses',
    );
    expect(() => instance.allowIngressFrom({ securityGroupId: "10.30.0.0/16" })).toThrow("allowed is distinct security group ids");
    instance.allowIngressFrom({ cidrBlock: "10.30.0.0/16" });
    expect(() => instance.allowIngressFrom({ cidrBlock: "10.30.0.0/16" })).toThrow(
      "was already called for this source (ingress-from-10-30-0-0-16): once per source.",
    );
    const variable = new TerraformVariable(TerraformStack.of(instance), "client_cidr", { type: "string" });
    expect(() => instance.allowIngressFrom({ cidrBlock: variable.stringValue })).toThrow("a source known only at plan time needs an id");
  });

  it("takes plan-time sources: a token CIDR is split into IPv4 or IPv6 by Terraform, a token list of extra groups is concatenated", () => {
    const app = Testing.app();
    const stack = new TerraformStack(app, "tokens");
    new AwsProvider(stack, "aws", { region: "eu-central-1" });
    const groups = new TerraformVariable(stack, "extra_groups", { type: "list(string)" });
    const cidr = new TerraformVariable(stack, "client_cidr", { type: "string" });
    const instance = new PulseAnalyticsPostgres(stack, "db", constructProps({ additionalSecurityGroupIds: groups.listValue }));
    instance.allowIngressFrom({ cidrBlock: cidr.stringValue }, { id: "client" });
    const json = JSON.parse(Testing.synth(stack));
    expect(onlyResource(json, "aws_db_instance").vpc_security_group_ids).toMatch(
      /^\$\{concat\(\[aws_security_group\.[^.]+\.id\], var\.extra_groups\)\}$/,
    );
    const [rule] = Object.entries(json.resource.aws_vpc_security_group_ingress_rule)
      .filter(([address]) => address.startsWith("db_ingress-from-client_"))
      .map(([, block]) => block as Record<string, unknown>);
    expect(rule.cidr_ipv4).toBe('${strcontains(var.client_cidr, ":") ? null : var.client_cidr}');
    expect(rule.cidr_ipv6).toBe('${strcontains(var.client_cidr, ":") ? var.client_cidr : null}');
    expect(rule.referenced_security_group_id).toBeUndefined();
  });
});

// RDS User Guide, "Working with read replicas for Amazon RDS for PostgreSQL"; CreateDBInstanceReadReplica:
// a same-Region source is named by its identifier, it must keep automated backups, and it has at most
// 15 replicas; a replica gets no final snapshot (DeleteDBInstance, SkipFinalSnapshot).
describe("read replicas (readReplicas)", () => {
  const json = synth({ readReplicas: { count: 2, instanceClass: "db.r7g.large", multiAz: true }, monitoringIntervalSeconds: 60 });
  const instances = resourcesOfType(json, "aws_db_instance");
  const primary = instances.find((db) => db.replicate_source_db === undefined)!;
  const replicas = instances.filter((db) => db.replicate_source_db !== undefined);

  it("replicate the primary by its identifier, named after it, with their own class and Multi-AZ", () => {
    expect(replicas.map((r) => r.identifier)).toEqual(["pulse-analytics-dev-replica-1", "pulse-analytics-dev-replica-2"]);
    for (const replica of replicas) {
      expect(replica.replicate_source_db).toMatch(/^\$\{aws_db_instance\.[^.]+\.identifier\}$/);
      expect(replica).toMatchObject({ instance_class: "db.r7g.large", multi_az: true, publicly_accessible: false });
    }
  });

  it("use the primary's key (inherited), subnets, security groups, port, CA and monitoring role, and its storage ceiling", () => {
    for (const replica of replicas) {
      expect(replica).toMatchObject({
        performance_insights_kms_key_id: primary.kms_key_id,
        db_subnet_group_name: primary.db_subnet_group_name,
        port: primary.port,
        ca_cert_identifier: primary.ca_cert_identifier,
        monitoring_interval: 60,
        monitoring_role_arn: primary.monitoring_role_arn,
        max_allocated_storage: primary.max_allocated_storage,
        iam_database_authentication_enabled: true,
      });
      expect(replica.vpc_security_group_ids).toMatch(/^\$\{tolist\(aws_db_instance\.[^.]+\.vpc_security_group_ids\)\}$/);
      // Encrypted with the source's key without naming it: RDS refuses KmsKeyId for a same-Region replica.
      expect(replica).not.toHaveProperty("kms_key_id");
      // No password, no master user, no backups of their own: those belong to the source.
      expect(replica).not.toHaveProperty("username");
      expect(replica).not.toHaveProperty("manage_master_user_password");
      expect(replica).not.toHaveProperty("backup_retention_period");
    }
  });

  it("are rebuildable copies: no final snapshot, no deletion protection", () => {
    for (const replica of replicas) expect(replica).toMatchObject({ skip_final_snapshot: true, deletion_protection: false });
  });

  it("share a parameter group of the primary's family with its settings and hot_standby_feedback on", () => {
    const groups = resourcesOfType(json, "aws_db_parameter_group");
    const replicaGroup = groups.find((g) => g.name_prefix.includes("-replica-"))!;
    const primaryGroup = groups.find((g) => !g.name_prefix.includes("-replica-"))!;
    expect(replicaGroup.family).toBe(primaryGroup.family);
    expect(replicaGroup.parameter).toEqual([...primaryGroup.parameter, { name: "hot_standby_feedback", value: "1" }]);
    for (const replica of replicas)
      expect(replica.parameter_group_name).toMatch(/^\$\{aws_db_parameter_group\.[^.]*replica-parameter-group[^.]*\.name\}$/);
  });

  it("export their logs into groups with the retention, created before them", () => {
    const names = resourcesOfType(json, "aws_cloudwatch_log_group").map((g) => g.name);
    expect(names).toEqual(
      expect.arrayContaining([
        "/aws/rds/instance/pulse-analytics-dev-replica-2/postgresql",
        "/aws/rds/instance/pulse-analytics-dev-replica-2/upgrade",
      ]),
    );
    for (const replica of replicas) expect(replica.depends_on.filter((d: string) => d.startsWith("aws_cloudwatch_log_group."))).toHaveLength(2);
  });

  it("default to none, and to the primary's class and a single zone", () => {
    expect(resourcesOfType(synth(), "aws_db_instance")).toHaveLength(1);
    const [replica] = resourcesOfType(synth({ readReplicas: { count: 1 } }), "aws_db_instance").filter((db) => db.replicate_source_db);
    expect(replica).toMatchObject({ instance_class: "db.t4g.micro", multi_az: false });
  });
});

// RDS User Guide, "Working with Amazon RDS event notification" (categories of source type db-instance)
// and "Granting permissions to publish notifications to an Amazon SNS topic".
describe("RDS event notifications (eventNotifications)", () => {
  const json = synth({ readReplicas: { count: 1 } });

  it("subscribe the primary and its replicas to the events an operator acts on, read replica events included", () => {
    const subscription = onlyResource(json, "aws_db_event_subscription");
    expect(subscription).toMatchObject({ name: "pulse-analytics-dev-events", source_type: "db-instance" });
    expect(subscription.source_ids).toEqual([
      expect.stringMatching(/^\$\{aws_db_instance\.[^.]*instance[^.]*\.identifier\}$/),
      expect.stringMatching(/^\$\{aws_db_instance\.[^.]*replica-1[^.]*\.identifier\}$/),
    ]);
    expect(subscription.event_categories).toEqual(
      expect.arrayContaining(["failover", "failure", "low storage", "maintenance", "configuration change", "notification", "read replica"]),
    );
    expect(onlyResource(synth(), "aws_db_event_subscription").event_categories).not.toContain("read replica");
  });

  it("send them to a topic encrypted with the database's key, which only RDS events of this database's instances may publish to", () => {
    const topic = onlyResource(json, "aws_sns_topic");
    expect(topic).toMatchObject({ name: "pulse-analytics-dev-events", kms_master_key_id: expect.stringMatching(/^\$\{aws_kms_key\.[^.]+\.arn\}$/) });
    expect(onlyResource(json, "aws_db_event_subscription").sns_topic).toMatch(/^\$\{aws_sns_topic\.[^.]+\.arn\}$/);
    const policy = onlyResource(json, "aws_sns_topic_policy").policy as string;
    expect(policy).toContain('"Principal" = {"Service" = "events.rds.amazonaws.com"}');
    expect(policy).toContain('"Action" = "sns:Publish"');
    expect(policy).toMatch(/"aws:SourceAccount" = data\.aws_caller_identity\.[^.]+\.account_id/);
    expect(policy).toMatch(
      /"aws:SourceArn" = \["arn:\$\{data\.aws_partition\.[^}]+\}:rds:\$\{data\.aws_region\.[^}]+\}:\$\{data\.aws_caller_identity\.[^}]+\}:db:pulse-analytics-dev\*"/,
    );
  });

  it("use a given topic instead, creating none", () => {
    const given = synth({ notificationTopicArn: "arn:aws:sns:eu-central-1:123456789012:ops-pager" });
    expect(given.resource.aws_sns_topic).toBeUndefined();
    expect(onlyResource(given, "aws_db_event_subscription").sns_topic).toBe("arn:aws:sns:eu-central-1:123456789012:ops-pager");
  });

  it("are left out with eventNotifications: false, and the topic too when alarms are off as well", () => {
    const noEvents = synth({ eventNotifications: false });
    expect(noEvents.resource.aws_db_event_subscription).toBeUndefined();
    expect(onlyResource(noEvents, "aws_sns_topic_policy").policy).not.toContain("events.rds.amazonaws.com");
    const off = synth({ eventNotifications: false, alarms: false });
    expect(off.resource.aws_sns_topic).toBeUndefined();
  });
});
