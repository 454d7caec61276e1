// What the PulseAnalyticsDatabase construct provisions inside the instance (roles, database, schema,
// grants, login-role secrets), read off its synthesized Terraform JSON. Here both constructs share one
// stack, so the database level refers to the instance directly; the app puts them in two stacks.

import { PostgresqlProvider } from "@cdktf/provider-postgresql/lib/provider";
import { GRANTS, PASSWORD_SLOTS, ROLES } from "../../src";
import { TerraformVariable, Testing } from "cdktf";
import { onlyResource, resourcesOfType, stackWithConstruct, synthConstruct, TerraformJson } from "../support/synth";

const synth = (overrides = {}): TerraformJson => JSON.parse(synthConstruct(overrides));

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
  });

  // Finding 4 of issue 9. A data source is read at plan time and its value stored in the saved plan
  // (Terraform docs, "Data sources"); RDS rotates its managed master secret every 7 days ("Password
  // management with Amazon RDS and AWS Secrets Manager"), so an apply approved after a rotation logged
  // in with a stale password. An ephemeral resource (Terraform ≥ 1.10, hashicorp/aws
  // internal/service/secretsmanager/secret_version_ephemeral.go) is opened anew at apply, and its
  // value is stored in neither the plan nor the state.
  it("reads the master password from the RDS-managed secret ephemerally, at plan and at apply, into the provider only", () => {
    const [[name, block]] = Object.entries(json.ephemeral!.aws_secretsmanager_secret_version);
    expect(block).toEqual({ secret_id: expect.stringMatching(/^\$\{aws_db_instance\..+\.master_user_secret\[0\]\.secret_arn\}$/) });
    expect(json.provider.postgresql[0].password).toBe(`\${jsondecode(ephemeral.aws_secretsmanager_secret_version.${name}.secret_string).password}`);
    expect(json.data?.aws_secretsmanager_secret_version).toBeUndefined();
  });

  it("connects through a tunnel when adminHost and adminPort are given", () => {
    const provider = synth({ adminHost: "localhost", adminPort: 15432 }).provider.postgresql[0];
    expect([provider.host, provider.port]).toEqual(["localhost", 15432]);
  });

  it("creates every role of the role model without login, and two login roles (password slots a and b) as members of each login role", () => {
    const roles = resourcesOfType(json, "postgresql_role");
    const expected = ROLES.flatMap((r) => [
      [r.name, false, [...r.memberOf.map((k) => ROLES.find((o) => o.key === k)!.name)]],
      ...(r.login ? PASSWORD_SLOTS.map((slot) => [`${r.name}_${slot}`, true, [r.name]]) : []),
    ]);
    expect(roles.map((r) => [r.name, r.login, r.roles ?? []]).sort()).toEqual(expected.sort());
    for (const role of roles.filter((r) => !r.login)) expect(role).not.toHaveProperty("password");
    for (const role of roles.filter((r) => r.login)) expect(role.password).toMatch(/^\$\{random_password\.[^.]+\.result\}$/);
  });

  it("creates database pulse_analytics and schema analytics, both owned by pulse_analytics_owner", () => {
    expect(onlyResource(json, "postgresql_database")).toMatchObject({ name: "pulse_analytics", owner: "pulse_analytics_owner" });
    const schema = onlyResource(json, "postgresql_schema");
    expect(schema).toMatchObject({ name: "analytics", owner: "pulse_analytics_owner" });
    expect(schema.database).toMatch(/^\$\{postgresql_database\..+\.name\}$/);
  });

  it("ends the app role's transactions left idle after the role model's timeout, on the roles that log in as it, as the local bootstrap does", () => {
    const roles = resourcesOfType(json, "postgresql_role");
    const timeouts = Object.fromEntries(roles.map((r) => [r.name, r.idle_in_transaction_session_timeout]));
    expect(ROLES.find((r) => r.key === "app")!.idleInTransactionSessionTimeoutMs).toBe(10_000);
    // A session setting (ALTER ROLE … SET) applies to the role that logs in, not to the roles it is a member of.
    expect(timeouts).toEqual({
      pulse_analytics_owner: undefined,
      pulse_analytics_migrator: undefined,
      pulse_analytics_migrator_a: undefined,
      pulse_analytics_migrator_b: undefined,
      pulse_analytics_app: undefined,
      pulse_analytics_app_a: 10_000,
      pulse_analytics_app_b: 10_000,
      pulse_analytics_readonly: undefined,
      pulse_analytics_readonly_a: undefined,
      pulse_analytics_readonly_b: undefined,
    });
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
    // schema analytics by reference, so each grant also waits for the schema (and is revoked before it is dropped).
    const analytics = `\${postgresql_schema.${Object.keys(json.resource.postgresql_schema)[0]}.name}`;
    expect(tableGrant("pulse_analytics_app")).toMatchObject({ schema: analytics, objects: [], privileges: ["SELECT", "INSERT", "UPDATE", "DELETE"] });
    expect(tableGrant("pulse_analytics_readonly")).toMatchObject({ schema: analytics, objects: [], privileges: ["SELECT"] });
    expect(defaults.map((d) => [d.role, d.owner, d.schema, d.object_type, d.privileges]).sort()).toEqual([
      ["pulse_analytics_app", "pulse_analytics_owner", analytics, "sequence", ["SELECT", "USAGE"]],
      ["pulse_analytics_app", "pulse_analytics_owner", analytics, "table", ["SELECT", "INSERT", "UPDATE", "DELETE"]],
      ["pulse_analytics_readonly", "pulse_analytics_owner", analytics, "sequence", ["SELECT"]],
      ["pulse_analytics_readonly", "pulse_analytics_owner", analytics, "table", ["SELECT"]],
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
    for (let at: string | undefined = heads[0]; at;) {
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
        ? [
            ["postgresql_grant", ...grant],
            ["postgresql_default_privileges", ...grant],
          ]
        : [["postgresql_grant", ...grant]];
    });
    expect(applied).toEqual(expected);
  });
});

// Password rotation with alternating users (role-model.ts, PASSWORD_SLOTS). Sources for the rules:
// - hashicorp/terraform-provider-random, internal/provider/resource_password.go: `keepers` has the plan
//   modifier RequiresReplaceIfValuesNotNull, so a changed value replaces the password (a new `result`),
//   and an unchanged one keeps it;
// - terraform-provider-aws, secretsmanager/secret_version.go: `secret_string` forces a new version,
//   and the old version keeps AWSCURRENT until PutSecretValue moves it to the new one;
// - Terraform applies a resource after everything in its depends_on.
describe("password rotation (passwordRotations)", () => {
  const appSecretOf = (json: TerraformJson) =>
    resourcesOfType(json, "aws_secretsmanager_secret_version").find((v) => String(v.secret_string).includes('"username" = "pulse_analytics_app_'))!;
  const passwordIdOf = (json: TerraformJson, key: string, slot: string) =>
    Object.keys(json.resource.random_password).find((id) => id.includes(`${key}-password-${slot}`))!;
  const keepersOf = (rotations: number) => {
    const json = synth({ passwordRotations: { app: rotations } });
    return Object.fromEntries(PASSWORD_SLOTS.map((slot) => [slot, json.resource.random_password[passwordIdOf(json, "app", slot)].keepers]));
  };

  it("names slot a in the secret before any rotation, slot b after one, a after two, with the named slot's own password", () => {
    for (const [rotations, slot] of [
      [0, "a"],
      [1, "b"],
      [2, "a"],
      [7, "b"],
    ] as const) {
      const json = synth({ passwordRotations: { app: rotations } });
      const secret = String(appSecretOf(json).secret_string);
      expect(secret).toContain(`"username" = "pulse_analytics_app_${slot}"`);
      expect(secret).toContain(`"password" = random_password.${passwordIdOf(json, "app", slot)}.result`);
    }
  });

  it("replaces one password per rotation, the newly active slot's, and never the one the secret named until then", () => {
    for (let rotations = 0; rotations < 6; rotations++) {
      const [before, after] = [keepersOf(rotations), keepersOf(rotations + 1)];
      const changed = PASSWORD_SLOTS.filter((slot) => JSON.stringify(before[slot]) !== JSON.stringify(after[slot]));
      expect(changed).toEqual([rotations % 2 === 0 ? "b" : "a"]);
    }
  });

  it("rotates each login role on its own count", () => {
    const json = synth({ passwordRotations: { readonly: 1 } });
    const usernames = resourcesOfType(json, "aws_secretsmanager_secret_version").map(
      (v) => /"username" = "([^"]+)"/.exec(String(v.secret_string))![1],
    );
    expect(usernames.sort()).toEqual(["pulse_analytics_app_a", "pulse_analytics_migrator_a", "pulse_analytics_readonly_b"]);
  });

  it("writes the secret only after both slots' roles, so it never names a password the database does not have yet", () => {
    const json = synth({ passwordRotations: { app: 1 } });
    const slotRoleIds = Object.entries(json.resource.postgresql_role)
      .filter(([, r]) => /^pulse_analytics_app_[ab]$/.test(r.name))
      .map(([id]) => `postgresql_role.${id}`);
    expect(slotRoleIds).toHaveLength(2);
    expect(appSecretOf(json).depends_on).toEqual(expect.arrayContaining(slotRoleIds));
  });

  it.each([
    [{ app: -1 }, "passwordRotations.app", "-1", "a whole number from 0"],
    [{ app: 1.5 }, "passwordRotations.app", "1.5", "a whole number from 0"],
    [{ owner: 1 }, "passwordRotations.owner", '"owner"', "a login role that signs in with a password: migrator, app, readonly"],
  ])("refuses passwordRotations %j, naming the field and what is allowed", (passwordRotations, field, value, allowed) => {
    expect(() => synth({ passwordRotations })).toThrow(new RegExp(`${field.replace(".", "\\.")}.*${value.replace(".", "\\.")}.*${allowed}`));
  });

  it("refuses a rotation of a role on IAM tokens (it has no password), and accepts its count left at 0", () => {
    expect(() => synth({ iamAuthenticatedRoles: ["app"], passwordRotations: { app: 0, readonly: 3 } })).not.toThrow();
    expect(() => synth({ iamAuthenticatedRoles: ["app"], passwordRotations: { app: 1 } })).toThrow(
      /passwordRotations\.app.*a login role that signs in with a password: migrator, readonly \(a role on IAM tokens has no password to rotate: leave it out or at 0\)/,
    );
  });
});

describe("grantReadSecret: what createPool's credentialsSecret needs", () => {
  it("lets an IAM role read one password role's secret, and decrypt with the database's key through Secrets Manager only", () => {
    const { stack, database } = stackWithConstruct();
    database.grantReadSecret("pulse-backend", "app");
    const json = JSON.parse(Testing.synth(stack)) as TerraformJson;
    const policy = onlyResource(json, "aws_iam_role_policy");
    expect(policy.role).toBe("pulse-backend");
    expect(policy.name).toBe("pulse-analytics-dev-pulse_analytics_app-read-secret");
    const document = policy.policy as string;
    expect(document).toContain(
      '{"Effect" = "Allow", "Action" = "secretsmanager:GetSecretValue", "Resource" = aws_secretsmanager_secret.database_app-secret_',
    );
    expect(document).toMatch(
      /\{"Effect" = "Allow", "Action" = "kms:Decrypt", "Resource" = aws_kms_key\.[^.]+\.arn, "Condition" = \{"StringEquals" = \{"kms:ViaService" = "secretsmanager\.\$\{data\.aws_region\.[^.]+\.region\}\.amazonaws\.com"\}\}\}/,
    );
  });

  it("refuses a role on IAM tokens, a bad name, a plan-time name without an id, and the same grant twice", () => {
    const { stack, database } = stackWithConstruct({ iamAuthenticatedRoles: ["app"] });
    expect(() => database.grantReadSecret("pulse-backend", "app")).toThrow(
      'grantReadSecret("pulse-backend", "app"): app signs in with IAM tokens here and has no secret; use grantConnect.',
    );
    expect(() => database.grantReadSecret("pulse backend", "readonly")).toThrow(
      'grantReadSecret("pulse backend", "readonly"): allowed is an IAM role name',
    );
    const planTimeName = new TerraformVariable(stack, "backend_role", { type: "string" }).stringValue;
    expect(() => database.grantReadSecret(planTimeName, "readonly")).toThrow("a role name known only at plan time needs an id");
    database.grantReadSecret("dashboards", "readonly");
    expect(() => database.grantReadSecret("dashboards", "readonly")).toThrow("was already called");
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
    expect(passwords).toHaveLength(6);
    expect(passwords.every((p) => p.length >= 32 && p.special === true)).toBe(true);
  });
});

// Finding 1 of issue 9. PostgreSQL 16+ gives a CREATEROLE non-superuser an ADMIN-only membership in
// every role it creates (grantor: the bootstrap superuser, rdsadmin on RDS; PostgreSQL docs, "CREATE
// ROLE"). cyrilgdn/postgresql 1.26.0's readGrantRole (postgresql/resource_postgresql_grant_role.go)
// reads one arbitrary pg_auth_members row for (member, role) and stores its admin_option; since
// with_admin_option forces replacement, every plan showed "-/+ with_admin_option = true -> false"
// (cyrilgdn/terraform-provider-postgresql PR #667, open). test/roles/master-membership.test.ts shows
// the two rows on a real PostgreSQL.
describe("the master's membership in the owner role", () => {
  const json = synth();
  const membership = onlyResource(json, "postgresql_grant_role");

  it("is granted without ADMIN OPTION and ignores the with_admin_option the provider reads back", () => {
    expect(membership.grant_role).toBe("pulse_analytics_owner");
    expect(membership).not.toHaveProperty("with_admin_option");
    expect(membership.lifecycle).toEqual({ ignore_changes: ["with_admin_option"] });
  });
});

// Finding 3 of issue 9: postgresql_schema drops with RESTRICT unless drop_cascade
// (resource_postgresql_schema.go, resourcePostgreSQLSchemaDelete), which fails once migrations
// created tables; prevent_destroy makes Terraform refuse, at plan time, any plan that would destroy
// the resource (Terraform docs, "The lifecycle meta-argument").
describe("what a destroy may remove", () => {
  it("is everything in an unprotected database (dev): the schema drops with its tables, nothing is held back", () => {
    const json = synth({ deletionProtection: false });
    expect(onlyResource(json, "postgresql_schema")).toMatchObject({ drop_cascade: true, lifecycle: { prevent_destroy: false } });
    expect(onlyResource(json, "postgresql_database").lifecycle).toEqual({ prevent_destroy: false });
  });

  it("is nothing of a protected database's data: no plan may destroy the database or the schema, and the schema never drops its tables", () => {
    const json = synth({ deletionProtection: true });
    expect(onlyResource(json, "postgresql_schema")).toMatchObject({ drop_cascade: false, lifecycle: { prevent_destroy: true } });
    expect(onlyResource(json, "postgresql_database").lifecycle).toEqual({ prevent_destroy: true });
  });
});

describe("grantReadTo, for a role made outside the construct", () => {
  it("gives it what readonly has, now and for later tables, each grant after the one before", () => {
    const { stack, database } = stackWithConstruct();
    database.grantReadTo("metabase");
    const json: TerraformJson = JSON.parse(Testing.synth(stack));
    const forMetabase = (type: string): Array<Record<string, any>> =>
      Object.entries<Record<string, any>>(json.resource[type] ?? {})
        .filter(([, block]) => block.role === "metabase")
        .map(([address, block]) => ({ address, ...block }));
    const sorted = (rows: Array<[string, string[]]>) => rows.sort(([a], [b]) => (a < b ? -1 : 1));
    expect(sorted(forMetabase("postgresql_grant").map((g) => [g.object_type, g.privileges]))).toEqual([
      ["database", ["CONNECT"]],
      ["schema", ["USAGE"]],
      ["sequence", ["SELECT"]],
      ["table", ["SELECT"]],
    ]);
    expect(sorted(forMetabase("postgresql_default_privileges").map((g) => [g.object_type, g.privileges]))).toEqual([
      ["sequence", ["SELECT"]],
      ["table", ["SELECT"]],
    ]);
    // The first waits for the construct's last grant (readonly's sequence default privileges).
    const first = forMetabase("postgresql_grant").find((g) => g.object_type === "database");
    expect(first?.depends_on).toEqual([expect.stringMatching(/^postgresql_default_privileges\.database_default-privileges-readonly-sequences_/)]);
  });

  it("refuses a role of the role model, a name that is not a plain role name, and the same role twice", () => {
    const { database } = stackWithConstruct();
    expect(() => database.grantReadTo("pulse_analytics_app")).toThrow(
      'grantReadTo("pulse_analytics_app"): that role is the role model\'s own; give an outside role.',
    );
    expect(() => database.grantReadTo("pulse_analytics_readonly_b")).toThrow("that role is the role model's own");
    expect(() => database.grantReadTo("Metabase")).toThrow('grantReadTo("Metabase"): allowed is 1 to 63 lower-case letters');
    database.grantReadTo("metabase");
    expect(() => database.grantReadTo("metabase")).toThrow('grantReadTo("metabase") was already called: once per role.');
  });
});

// RDS User Guide, "Database authentication with Amazon RDS": a user signs in with one method only; a
// member of rds_iam signs in with IAM tokens, and its password no longer works. "Creating and using an
// IAM policy for IAM database access": rds-db:connect on
// arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<database user name>.
describe("IAM authentication (iamAuthenticatedRoles)", () => {
  const json = synth({ iamAuthenticatedRoles: ["app"] });
  const roleNamed = (name: string) => resourcesOfType(json, "postgresql_role").find((r) => r.name === name)!;

  it("makes the role log in itself as a member of rds_iam, with no password and no slots, and leaves the others on passwords", () => {
    expect(roleNamed("pulse_analytics_app")).toMatchObject({ login: true, roles: ["rds_iam"], idle_in_transaction_session_timeout: 10_000 });
    expect(roleNamed("pulse_analytics_app").password).toBeUndefined();
    expect(roleNamed("pulse_analytics_app_a")).toBeUndefined();
    expect(roleNamed("pulse_analytics_migrator_a").roles).toEqual(["pulse_analytics_migrator"]);
    expect(roleNamed("pulse_analytics_readonly_b").password).toMatch(/^\$\{random_password\.[^.]+\.result\}$/);
    expect(Object.keys(json.resource.random_password)).toHaveLength(4);
  });

  it("keeps a secret for each password role only", () => {
    const names = resourcesOfType(json, "aws_secretsmanager_secret").map((s) => s.name);
    expect(names.sort()).toEqual(["pulse-analytics-dev/pulse_analytics_migrator", "pulse-analytics-dev/pulse_analytics_readonly"]);
  });

  it("creates a managed policy allowing rds-db:connect as that role on this instance and its replicas only, by their DbiResourceIds", () => {
    const policy = onlyResource(json, "aws_iam_policy");
    expect(policy.name).toBe("pulse-analytics-dev-pulse_analytics_app-connect");
    expect(policy.tags).toEqual(expect.objectContaining({ component: "analytics-postgres" }));
    const document = policy.policy as string;
    expect(document).toMatch(/^\$\{jsonencode\(/);
    expect(document).toContain('"Action" = "rds-db:connect"');
    expect(document).toMatch(
      /"Resource" = formatlist\("arn:%s:rds-db:%s:%s:dbuser:%s\/pulse_analytics_app", data\.aws_partition\.[^.]+\.partition, data\.aws_region\.[^.]+\.region, data\.aws_caller_identity\.[^.]+\.account_id, \[aws_db_instance\.[^.]+\.resource_id\]\)/,
    );
    const withReplica = onlyResource(synth({ iamAuthenticatedRoles: ["app"], readReplicas: { count: 1 } }), "aws_iam_policy").policy as string;
    expect(withReplica).toMatch(/, \[aws_db_instance\.[^.]*instance[^.]*\.resource_id, aws_db_instance\.[^.]*replica-1[^.]*\.resource_id\]\)/);
  });

  it("creates no policy and reads no account data when every role is on a password (the default)", () => {
    const plain = synth();
    expect(plain.resource.aws_iam_policy).toBeUndefined();
    expect(Object.keys(plain.resource.random_password)).toHaveLength(6);
  });

  it("grantConnect attaches the role's policy to an IAM role, once per role, and refuses a password role or a bad name", () => {
    const { stack, database } = stackWithConstruct({ iamAuthenticatedRoles: ["app", "readonly"] });
    database.grantConnect("pulse-backend", "app");
    database.grantConnect("dashboards", "readonly");
    const attached = resourcesOfType(JSON.parse(Testing.synth(stack)), "aws_iam_role_policy_attachment");
    expect(attached.map((a) => [a.role, a.policy_arn])).toEqual([
      ["pulse-backend", expect.stringMatching(/^\$\{aws_iam_policy\.[^.]*app-connect-policy[^.]*\.arn\}$/)],
      ["dashboards", expect.stringMatching(/^\$\{aws_iam_policy\.[^.]*readonly-connect-policy[^.]*\.arn\}$/)],
    ]);
    expect(() => database.grantConnect("pulse-backend", "app")).toThrow('grantConnect("pulse-backend", "app") was already called');
    expect(() => database.grantConnect("pulse-backend", "migrator")).toThrow(
      'grantConnect("pulse-backend", "migrator"): migrator signs in with a password here; add it to iamAuthenticatedRoles to grant IAM sign-in.',
    );
    expect(() => database.grantConnect("pulse backend", "app")).toThrow(
      'grantConnect("pulse backend", "app"): allowed is an IAM role name of the account',
    );
    const planTimeName = new TerraformVariable(stack, "backend_role", { type: "string" }).stringValue;
    expect(() => database.grantConnect(planTimeName, "app")).toThrow('grantConnect(a token, "app"): a role name known only at plan time needs an id');
    database.grantConnect(planTimeName, "app", { id: "backend" });
    expect(resourcesOfType(JSON.parse(Testing.synth(stack)), "aws_iam_role_policy_attachment").map((a) => a.role)).toContain("${var.backend_role}");
  });

  it.each([
    [["app", "app"], "distinct login roles of the role model: migrator, app, readonly"],
    [["owner"], "distinct login roles of the role model"],
    [["admin"], "distinct login roles of the role model"],
  ])("refuses iamAuthenticatedRoles %j, naming the prop", (keys, allowed) => {
    expect(() => synth({ iamAuthenticatedRoles: keys })).toThrow(`invalid iamAuthenticatedRoles: ${JSON.stringify(keys)}. Allowed: ${allowed}`);
  });
});
