// What the PulseAnalyticsPostgres construct provisions, read off its synthesized Terraform JSON.

import { DbInstance } from "@cdktf/provider-aws/lib/db-instance";
import { DbParameterGroup } from "@cdktf/provider-aws/lib/db-parameter-group";
import { KmsKey } from "@cdktf/provider-aws/lib/kms-key";
import { PostgresqlProvider } from "@cdktf/provider-postgresql/lib/provider";
import { GRANTS, ROLES } from "../../src";
import { onlyResource, resourcesOfType, synthConstruct, TerraformJson } from "../support/synth";

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
    expect(onlyResource(json, "aws_db_subnet_group").subnet_ids).toEqual([
      "subnet-0a1b2c3d4e5f60718",
      "subnet-1a2b3c4d5e6f70819",
    ]);
    expect(instance.vpc_security_group_ids).toEqual([`\${aws_security_group.${Object.keys(json.resource.aws_security_group)[0]}.id}`]);
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
    const on = onlyResource(synth({ multiAz: true, deletionProtection: true, performanceInsights: true, performanceInsightsRetentionDays: 31 }), "aws_db_instance");
    expect(on).toMatchObject({ multi_az: true, deletion_protection: true, performance_insights_enabled: true, performance_insights_retention_period: 31 });
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

describe("the database level (postgresql provider)", () => {
  const json = synth();
  const text = JSON.stringify(json);

  it("connects to the instance address as the non-superuser master, over TLS, giving up after 15 s", () => {
    expect(text).toHaveProviderWithProperties(PostgresqlProvider, {
      superuser: false,
      sslmode: "require",
      connect_timeout: 15,
      database: "postgres",
    });
    const provider = json.provider.postgresql[0];
    expect(provider.host).toMatch(/^\$\{aws_db_instance\..+\.address\}$/);
    expect(provider.port).toMatch(/^\$\{aws_db_instance\..+\.port\}$/);
    expect(provider.username).toMatch(/^\$\{aws_db_instance\..+\.username\}$/);
    // The password is read from the RDS-managed secret at plan time, never written down.
    expect(provider.password).toMatch(/^\$\{jsondecode\(data\.aws_secretsmanager_secret_version\..+\.secret_string\)\.password\}$/);
  });

  it("connects through a tunnel when adminHost and adminPort are given", () => {
    const provider = synth({ adminHost: "localhost", adminPort: 15432 }).provider.postgresql[0];
    expect([provider.host, provider.port]).toEqual(["localhost", 15432]);
  });

  it("creates every role of the role model, only the owner without login, the migrator a member of the owner", () => {
    const roles = resourcesOfType(json, "postgresql_role");
    expect(roles.map((r) => [r.name, r.login]).sort()).toEqual(ROLES.map((r) => [r.name, r.login]).sort());
    const migrator = roles.find((r) => r.name === "pulse_analytics_migrator");
    expect(migrator!.roles).toEqual(["pulse_analytics_owner"]);
    expect(roles.find((r) => r.name === "pulse_analytics_owner")).not.toHaveProperty("password");
  });

  it("creates database pulse_analytics and schema analytics, both owned by pulse_analytics_owner", () => {
    expect(onlyResource(json, "postgresql_database")).toMatchObject({ name: "pulse_analytics", owner: "pulse_analytics_owner" });
    const schema = onlyResource(json, "postgresql_schema");
    expect(schema).toMatchObject({ name: "analytics", owner: "pulse_analytics_owner" });
    expect(schema.database).toMatch(/^\$\{postgresql_database\..+\.name\}$/);
  });

  it("names the database after databaseName", () => {
    expect(onlyResource(synth({ databaseName: "pulse_analytics_test" }), "postgresql_database").name).toBe("pulse_analytics_test");
  });

  it("revokes PUBLIC's CONNECT and TEMP on the database and CREATE on schema public", () => {
    const grants = resourcesOfType(json, "postgresql_grant").filter((g) => g.role === "public");
    expect(grants.map((g) => [g.object_type, g.schema, g.privileges]).sort()).toEqual([
      ["database", undefined, []],
      ["schema", "public", ["USAGE"]],
    ]);
  });

  it("grants app read-write and readonly read on analytics tables, now and by default for tables migrations create later", () => {
    const grants = resourcesOfType(json, "postgresql_grant");
    const defaults = resourcesOfType(json, "postgresql_default_privileges");
    const tableGrant = (role: string) => grants.find((g) => g.role === role && g.object_type === "table");
    expect(tableGrant("pulse_analytics_app")).toMatchObject({ schema: "analytics", objects: [], privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"] });
    expect(tableGrant("pulse_analytics_readonly")).toMatchObject({ schema: "analytics", objects: [], privileges: ["SELECT"] });
    expect(defaults.map((d) => [d.role, d.owner, d.schema, d.object_type, d.privileges]).sort()).toEqual([
      ["pulse_analytics_app", "pulse_analytics_owner", "analytics", "sequence", ["SELECT", "USAGE"]],
      ["pulse_analytics_app", "pulse_analytics_owner", "analytics", "table", ["SELECT", "INSERT", "UPDATE", "DELETE"]],
      ["pulse_analytics_readonly", "pulse_analytics_owner", "analytics", "sequence", ["SELECT"]],
      ["pulse_analytics_readonly", "pulse_analytics_owner", "analytics", "table", ["SELECT"]],
    ]);
  });

  it("applies every grant of the role model one after another, in the model's order (no 'tuple concurrently updated')", () => {
    // Walk the depends_on chain of postgresql_grant and postgresql_default_privileges from its head.
    const links = new Map<string, any>(
      ["postgresql_grant", "postgresql_default_privileges"].flatMap((type) =>
        Object.entries(json.resource[type]).map(([name, block]) => [`${type}.${name}`, block] as const),
      ),
    );
    const nextOf = new Map<string, string[]>();
    const heads: string[] = [];
    for (const [address, block] of links) {
      const on = (block.depends_on as string[]).filter((d) => links.has(d));
      expect(on.length).toBeLessThanOrEqual(1);
      if (on.length === 0) heads.push(address);
      else nextOf.set(on[0], [...(nextOf.get(on[0]) ?? []), address]);
    }
    expect(heads).toHaveLength(1);
    // The chain starts once the master is a member of the database's owner: only the owner can grant on it.
    const membership = onlyResource(json, "postgresql_grant_role");
    expect(membership.role).toMatch(/^\$\{aws_db_instance\..+\.username\}$/);
    expect(membership.grant_role).toBe("pulse_analytics_owner");
    expect(links.get(heads[0]).depends_on).toContain(`postgresql_grant_role.${Object.keys(json.resource.postgresql_grant_role)[0]}`);
    const applied: unknown[][] = [];
    for (let at: string | undefined = heads[0]; at; ) {
      const block = links.get(at)!;
      applied.push([at.split(".")[0], block.role, block.object_type, block.privileges]);
      const next: string[] = nextOf.get(at) ?? [];
      expect(next.length).toBeLessThanOrEqual(1);
      at = next[0];
    }

    const roleName = (grantee: string) => (grantee === "public" ? "public" : ROLES.find((r) => r.key === grantee)!.name);
    const objectType = { database: "database", schema: "schema", tables: "table", sequences: "sequence" };
    const expected = GRANTS.flatMap((g) => {
      const grant = [roleName(g.grantee), objectType[g.scope], [...g.privileges]];
      return g.alsoDefault
        ? [["postgresql_grant", ...grant], ["postgresql_default_privileges", ...grant]]
        : [["postgresql_grant", ...grant]];
    });
    expect(applied).toEqual(expected);
  });
});

describe("the login-role secrets", () => {
  const json = synth();
  const secrets = resourcesOfType(json, "aws_secretsmanager_secret");
  const values = resourcesOfType(json, "aws_secretsmanager_secret_version");

  it("keeps one secret per login role, encrypted with the database's key", () => {
    expect(secrets.map((s) => s.name).sort()).toEqual([
      "pulse-analytics-dev/pulse_analytics_app",
      "pulse-analytics-dev/pulse_analytics_migrator",
      "pulse-analytics-dev/pulse_analytics_readonly",
    ]);
    for (const secret of secrets) expect(secret.kms_key_id).toMatch(/^\$\{aws_kms_key\..+\.arn\}$/);
  });

  it("stores the RDS secret JSON shape, with the Terraform-generated password referenced, not written", () => {
    expect(values).toHaveLength(3);
    for (const value of values) {
      expect(value.secret_string).toMatch(/^\$\{jsonencode\(\{.*\}\)\}$/);
      for (const key of ["engine", "host", "port", "dbname", "username", "password"]) {
        expect(value.secret_string).toContain(`"${key}" = `);
      }
      expect(value.secret_string).toMatch(/"password" = random_password\.[^.]+\.result/);
    }
    const passwords = resourcesOfType(json, "random_password");
    expect(passwords).toHaveLength(3);
    expect(passwords.every((p) => p.length >= 32 && p.special === true)).toBe(true);
  });
});

describe("tags", () => {
  // Resources AWS does not tag.
  const untaggable = new Set(["aws_secretsmanager_secret_version", "aws_iam_role_policy_attachment", "aws_kms_alias"]);

  it("sets project, environment, component and managed-by on every taggable AWS resource, plus extra tags", () => {
    const json = synth({ monitoringIntervalSeconds: 60, tags: { "cost-center": "learning" } });
    const taggable = Object.keys(json.resource).filter((type) => type.startsWith("aws_") && !untaggable.has(type));
    expect(taggable.length).toBeGreaterThanOrEqual(9);
    for (const type of taggable) {
      for (const block of resourcesOfType(json, type)) {
        expect({ type, tags: block.tags }).toEqual({
          type,
          tags: expect.objectContaining({
            project: "pulse",
            environment: "dev",
            component: "analytics-postgres",
            "managed-by": "cdktf",
            "cost-center": "learning",
          }),
        });
      }
    }
  });
});
