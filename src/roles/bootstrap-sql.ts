// The role model of src/roles/role-model.ts rendered as SQL, for the local database (embedded Postgres
// and docker compose). Like RDS, a superuser only creates an admin role that is no superuser (RDS's
// master user); the admin does the rest, so a permission the cloud lacks is missing locally too.
//
// Grants are rendered with the postgresql provider's semantics: the listed privileges are the exact
// set (everything else revoked first), so running the bootstrap again converges, never accumulates.

import {
  ANALYTICS_SCHEMA,
  GRANTS,
  LOGIN_ROLE_KEYS,
  LOGIN_ROLES,
  LoginRoleKey,
  PASSWORD_SLOTS,
  PrivilegeGrant,
  ROLES,
  RoleKey,
  role,
  slotRoleName,
} from "./role-model";

/** The admin role: the local stand-in for the RDS master user. */
export const LOCAL_ADMIN_ROLE = "pulse_admin";

/** A password as SQL: a literal, or a psql variable (docker's init script passes them with -v). */
export type PasswordSql = { literal: string } | { psqlVariable: string };

export interface BootstrapTarget {
  /** The analytics database. */
  readonly databaseName: string;
}

const quoteIdent = (name: string): string => `"${name.replace(/"/g, '""')}"`;
const quoteLiteral = (value: string): string => `'${value.replace(/'/g, "''")}'`;
const passwordSql = (password: PasswordSql): string => ("literal" in password ? quoteLiteral(password.literal) : `:'${password.psqlVariable}'`);

/** CREATE ROLE unless it exists (a DO block: CREATE ROLE has no IF NOT EXISTS). */
function ensureRole(name: string, attributes: string): string {
  return (
    `DO $$ BEGIN IF NOT EXISTS (SELECT FROM pg_catalog.pg_roles WHERE rolname = ${quoteLiteral(name)}) ` +
    `THEN CREATE ROLE ${quoteIdent(name)} ${attributes}; END IF; END $$;`
  );
}

/** Run by a superuser: the admin role, with what RDS gives its master (create roles and databases). */
export function adminRoleSql(password: PasswordSql): string[] {
  return [
    ensureRole(LOCAL_ADMIN_ROLE, "LOGIN CREATEROLE CREATEDB"),
    `ALTER ROLE ${quoteIdent(LOCAL_ADMIN_ROLE)} LOGIN CREATEROLE CREATEDB NOSUPERUSER PASSWORD ${passwordSql(password)};`,
  ];
}

/**
 * Run by the admin on the maintenance database: the roles of the model with their memberships, and
 * the admin's membership in the owner role (postgresql_grant_role in the cloud): only the owner of
 * the database may grant on it. Each login role signs in through its two password slots, as in the
 * cloud; locally both slots get the role's one local password (nothing rotates here).
 */
export function rolesSql(passwords: Record<Exclude<RoleKey, "owner">, PasswordSql>): string[] {
  const statements: string[] = [];
  for (const definition of ROLES) {
    const name = quoteIdent(definition.name);
    // The role itself holds the privileges; only its slots log in.
    statements.push(ensureRole(definition.name, "NOLOGIN"), `ALTER ROLE ${name} NOLOGIN PASSWORD NULL;`);
    // A database bootstrapped before the slots existed had the timeout on the role itself.
    if (definition.idleInTransactionSessionTimeoutMs !== undefined) statements.push(`ALTER ROLE ${name} RESET idle_in_transaction_session_timeout;`);
    for (const parent of definition.memberOf) statements.push(`GRANT ${quoteIdent(role(parent).name)} TO ${name};`);
    if (definition.key === "owner") continue;
    for (const slot of PASSWORD_SLOTS) {
      const slotName = quoteIdent(slotRoleName(definition.key, slot));
      statements.push(
        ensureRole(slotRoleName(definition.key, slot), "LOGIN"),
        `ALTER ROLE ${slotName} LOGIN PASSWORD ${passwordSql(passwords[definition.key])};`,
        `GRANT ${name} TO ${slotName};`,
      );
      // A session setting follows the role that logs in, not the roles it is a member of.
      if (definition.idleInTransactionSessionTimeoutMs !== undefined) {
        statements.push(`ALTER ROLE ${slotName} SET idle_in_transaction_session_timeout = ${definition.idleInTransactionSessionTimeoutMs};`);
      }
    }
  }
  statements.push(`GRANT ${quoteIdent(role("owner").name)} TO ${quoteIdent(LOCAL_ADMIN_ROLE)};`);
  return statements;
}

/** CREATE DATABASE: it cannot run in a transaction or a DO block, so the caller runs it only when the database is missing. */
export function createDatabaseSql(target: BootstrapTarget): string {
  return `CREATE DATABASE ${quoteIdent(target.databaseName)} OWNER ${quoteIdent(role("owner").name)} ENCODING 'UTF8';`;
}

/** Run by the admin inside the analytics database: schema, grants and default privileges, in the model's order. */
export function databaseSql(target: BootstrapTarget): string[] {
  const owner = quoteIdent(role("owner").name);
  const statements = [`CREATE SCHEMA IF NOT EXISTS ${quoteIdent(ANALYTICS_SCHEMA)} AUTHORIZATION ${owner};`];
  for (const grant of GRANTS) {
    statements.push(...grantSql(grant, target));
    if (grant.alsoDefault) statements.push(...defaultPrivilegesSql(grant));
  }
  return statements;
}

function granteeSql(grant: PrivilegeGrant): string {
  return grant.grantee === "public" ? "PUBLIC" : quoteIdent(role(grant.grantee).name);
}

function grantSql(grant: PrivilegeGrant, target: BootstrapTarget): string[] {
  const on = {
    database: `DATABASE ${quoteIdent(target.databaseName)}`,
    schema: `SCHEMA ${quoteIdent(grant.schema ?? "")}`,
    tables: `ALL TABLES IN SCHEMA ${quoteIdent(grant.schema ?? "")}`,
    sequences: `ALL SEQUENCES IN SCHEMA ${quoteIdent(grant.schema ?? "")}`,
  }[grant.scope];
  const grantee = granteeSql(grant);
  const statements = [`REVOKE ALL ON ${on} FROM ${grantee};`];
  if (grant.privileges.length > 0) statements.push(`GRANT ${grant.privileges.join(", ")} ON ${on} TO ${grantee};`);
  return statements;
}

function defaultPrivilegesSql(grant: PrivilegeGrant): string[] {
  const scope = `ALTER DEFAULT PRIVILEGES FOR ROLE ${quoteIdent(role("owner").name)} IN SCHEMA ${quoteIdent(grant.schema ?? "")}`;
  const objects = grant.scope === "tables" ? "TABLES" : "SEQUENCES";
  const grantee = granteeSql(grant);
  return [`${scope} REVOKE ALL ON ${objects} FROM ${grantee};`, `${scope} GRANT ${grant.privileges.join(", ")} ON ${objects} TO ${grantee};`];
}

/**
 * The environment variables docker compose's init passes the passwords in (read with \getenv, never on
 * a command line): the local admin's, then each login role's, as the role model names them.
 */
export const PASSWORD_ENVIRONMENT: Readonly<Record<"admin" | LoginRoleKey, string>> = {
  admin: "PULSE_LOCAL_ADMIN_PASSWORD",
  ...(Object.fromEntries(LOGIN_ROLES.map((r) => [r.key, r.localPasswordVariable])) as Record<LoginRoleKey, string>),
};

/**
 * The whole bootstrap as one psql script (psql 15 or newer), for docker compose's init directory:
 * run by the image's superuser, with the passwords read from the environment (PASSWORD_ENVIRONMENT),
 * so they appear in no process list. Stops at the first error; safe to run again.
 */
export function psqlBootstrapScript(target: BootstrapTarget): string {
  const variable = (key: string): PasswordSql => ({ psqlVariable: `${key}_password` });
  const database = target.databaseName;
  const readPasswords = Object.entries(PASSWORD_ENVIRONMENT).flatMap(([key, name]) => [
    `\\getenv ${key}_password ${name}`,
    `\\if :{?${key}_password}`,
    "\\else",
    `  DO $$ BEGIN RAISE EXCEPTION '${name} is not set: set it in .env (see .env.example)'; END $$;`,
    "\\endif",
  ]);
  return [
    `-- PULSE Analytics Postgres: local bootstrap (roles, database ${database}, grants, default privileges).`,
    "-- Generated from src/roles/role-model.ts by `npm run db:bootstrap-sql -- --out docker/bootstrap.sql`; do not edit by hand.",
    "\\set ON_ERROR_STOP on",
    ...readPasswords,
    "",
    "-- As the superuser: the admin role (the local stand-in for the RDS master user).",
    ...adminRoleSql(variable("admin")),
    "",
    "-- As the admin, like the cloud deploy: the roles of the role model.",
    `SET ROLE ${quoteIdent(LOCAL_ADMIN_ROLE)};`,
    ...rolesSql(Object.fromEntries(LOGIN_ROLE_KEYS.map((key) => [key, variable(key)])) as Record<LoginRoleKey, PasswordSql>),
    `SELECT ${quoteLiteral(createDatabaseSql(target))} WHERE NOT EXISTS (SELECT FROM pg_catalog.pg_database WHERE datname = ${quoteLiteral(database)}) \\gexec`,
    "",
    `\\connect ${quoteIdent(database)}`,
    `SET ROLE ${quoteIdent(LOCAL_ADMIN_ROLE)};`,
    ...databaseSql(target),
    "",
  ].join("\n");
}
