// What a login role may do according to the role model, and a check of it from inside a session of
// that role (has_*_privilege), so `db:url --check` can tell whether a deployed database matches.

import { ClientBase } from "pg";
import { ANALYTICS_SCHEMA, GRANTS, LoginRoleKey, role } from "../roles/role-model";
import { onlyRow } from "../client/rows";

const DATABASE_PRIVILEGES = ["CONNECT", "TEMPORARY", "CREATE"];
const SCHEMA_PRIVILEGES = ["USAGE", "CREATE"];
const TABLE_PRIVILEGES = ["SELECT", "INSERT", "UPDATE", "DELETE", "TRUNCATE", "REFERENCES", "TRIGGER"];

export interface ExpectedPrivileges {
  readonly database: readonly string[];
  readonly analyticsSchema: readonly string[];
  readonly analyticsTables: readonly string[];
  readonly analyticsSequences: readonly string[];
  /** Roles the session must be a member of (with their privileges): the login role itself (a slot signs in as its member), and its parents. */
  readonly memberOf: readonly string[];
  /** Whether it holds the owner's rights (the migrator): then it may also create in schema public, and has no grants of its own. */
  readonly ownerRights: boolean;
}

/** The privileges the role model gives a login role: its own grants, or everything for a member of the owner. */
export function expectedPrivileges(key: LoginRoleKey): ExpectedPrivileges {
  const definition = role(key);
  if (definition.memberOf.includes("owner")) {
    return {
      database: DATABASE_PRIVILEGES,
      analyticsSchema: SCHEMA_PRIVILEGES,
      analyticsTables: TABLE_PRIVILEGES,
      analyticsSequences: ["USAGE", "SELECT", "UPDATE"],
      memberOf: [definition.name, role("owner").name],
      ownerRights: true,
    };
  }
  const granted = (scope: string, schema?: string) =>
    GRANTS.filter((g) => g.grantee === key && g.scope === scope && (schema === undefined || g.schema === schema)).flatMap((g) => g.privileges);
  return {
    database: granted("database"),
    analyticsSchema: granted("schema", ANALYTICS_SCHEMA),
    analyticsTables: granted("tables", ANALYTICS_SCHEMA),
    analyticsSequences: granted("sequences", ANALYTICS_SCHEMA),
    memberOf: [definition.name],
    ownerRights: false,
  };
}

export interface PrivilegeReport {
  readonly serverVersion: string;
  readonly currentUser: string;
  readonly tables: readonly string[];
  /** One line per privilege that differs from the role model; empty when all match. */
  readonly mismatches: readonly string[];
}

/** Checks, as the connected role, every database, schema and table privilege against the role model. */
export async function checkRolePrivileges(client: ClientBase, key: LoginRoleKey): Promise<PrivilegeReport> {
  const expected = expectedPrivileges(key);
  const session = await client.query<{ version: string; current_user: string }>("SELECT current_setting('server_version') AS version, current_user");
  const tables = (
    await client.query<{ name: string }>(
      "SELECT c.relname AS name FROM pg_class c WHERE c.relnamespace = $1::regnamespace AND c.relkind IN ('r', 'p') AND NOT c.relispartition ORDER BY 1",
      [ANALYTICS_SCHEMA],
    )
  ).rows.map((r) => r.name);

  const mismatches: string[] = [];
  const compare = async (what: string, sql: string, params: unknown[], expectedHeld: boolean) => {
    const { held } = onlyRow(await client.query<{ held: boolean }>(`SELECT ${sql} AS held`, params), what);
    if (held !== expectedHeld) mismatches.push(`${what}: ${held ? "held" : "missing"}, the role model says ${expectedHeld ? "held" : "not held"}`);
  };
  for (const privilege of DATABASE_PRIVILEGES) {
    await compare(
      `${privilege} on the database`,
      "has_database_privilege(current_database(), $1)",
      [privilege],
      expected.database.includes(privilege),
    );
  }
  for (const privilege of SCHEMA_PRIVILEGES) {
    await compare(
      `${privilege} on schema ${ANALYTICS_SCHEMA}`,
      "has_schema_privilege($1, $2)",
      [ANALYTICS_SCHEMA, privilege],
      expected.analyticsSchema.includes(privilege),
    );
  }
  await compare("CREATE on schema public", "has_schema_privilege('public', 'CREATE')", [], expected.ownerRights);
  for (const table of tables) {
    for (const privilege of TABLE_PRIVILEGES) {
      await compare(
        `${privilege} on ${ANALYTICS_SCHEMA}.${table}`,
        "has_table_privilege(format('%I.%I', $1::text, $2::text), $3)",
        [ANALYTICS_SCHEMA, table, privilege],
        expected.analyticsTables.includes(privilege),
      );
    }
  }
  const sequences = (
    await client.query<{ name: string }>("SELECT relname AS name FROM pg_class WHERE relnamespace = $1::regnamespace AND relkind = 'S' ORDER BY 1", [
      ANALYTICS_SCHEMA,
    ])
  ).rows.map((r) => r.name);
  for (const sequence of sequences) {
    for (const privilege of ["USAGE", "SELECT", "UPDATE"]) {
      await compare(
        `${privilege} on sequence ${ANALYTICS_SCHEMA}.${sequence}`,
        "has_sequence_privilege(format('%I.%I', $1::text, $2::text), $3)",
        [ANALYTICS_SCHEMA, sequence, privilege],
        expected.analyticsSequences.includes(privilege),
      );
    }
  }
  // Default privileges decide what tables created by the next migration will allow: compare them too.
  if (!expected.ownerRights) {
    const defaults = await client.query<{ kind: string; privilege: string }>(
      `SELECT d.defaclobjtype::text AS kind, a.privilege_type AS privilege
       FROM pg_default_acl d, aclexplode(d.defaclacl) a
       WHERE d.defaclrole = $1::regrole AND d.defaclnamespace = $2::regnamespace AND a.grantee = $3::regrole`,
      // Granted to the login role, which a slot's session inherits them from.
      [role("owner").name, ANALYTICS_SCHEMA, role(key).name],
    );
    const held = (kind: string) =>
      defaults.rows
        .filter((r) => r.kind === kind)
        .map((r) => r.privilege)
        .sort();
    for (const [kind, label, wanted] of [
      ["r", "tables", expected.analyticsTables],
      ["S", "sequences", expected.analyticsSequences],
    ] as const) {
      const want = [...wanted].sort();
      if (held(kind).join(",") !== want.join(",")) {
        mismatches.push(
          `default privileges on future ${label} of ${role("owner").name}: ${held(kind).join(", ") || "none"}, the role model says ${want.join(", ") || "none"}`,
        );
      }
    }
  }
  for (const parent of expected.memberOf) {
    await compare(`membership in ${parent}`, "pg_has_role($1, 'USAGE')", [parent], true);
  }
  const { version, current_user } = onlyRow(session, "the session query");
  return { serverVersion: version, currentUser: current_user, tables, mismatches };
}
