// The PULSE Analytics role model: one definition of the roles and their privileges, rendered as
// postgresql_* Terraform resources for the cloud and (in the local database) as bootstrap SQL.

/** The schema that holds every analytics table. */
export const ANALYTICS_SCHEMA = "analytics";
/** The analytics database, in the cloud (the construct's default) and locally. */
export const DEFAULT_DATABASE_NAME = "pulse_analytics";

/** Which login role a connection uses (directly, or through one of its password slots); the owner role never logs in. */
export type LoginRoleKey = "migrator" | "app" | "readonly";
export type RoleKey = "owner" | LoginRoleKey;

export interface RoleDefinition {
  readonly key: RoleKey;
  /** The PostgreSQL role name. */
  readonly name: string;
  /** Whether clients sign in as this role: through its password slots, or itself with IAM tokens (PASSWORD_SLOTS). */
  readonly login: boolean;
  /** Roles this role is a member of (and inherits the privileges of). */
  readonly memberOf: readonly RoleKey[];
  /** Who uses it, for docs and secret descriptions. */
  readonly usedBy: string;
  /**
   * idle_in_transaction_session_timeout for the role, in milliseconds: a session of the role that sits
   * in an open transaction longer than this is ended, and its row locks released.
   * @default undefined (the server's setting: no limit)
   */
  readonly idleInTransactionSessionTimeoutMs?: number;
}

/**
 * A privilege grant. `scope` says what it applies to:
 * - "database": the analytics database;
 * - "schema": a named schema (`schema`);
 * - "tables" / "sequences": every existing one in `schema`, and (`alsoDefault`) every one the
 *   owner role creates later, through ALTER DEFAULT PRIVILEGES FOR ROLE owner. Default privileges
 *   follow the creating role, so migrations must create objects as the owner: the migrator runs
 *   `SET ROLE pulse_analytics_owner` before it applies them.
 * An empty `privileges` list means "revoke everything" (used for PUBLIC).
 */
export interface PrivilegeGrant {
  /** A role key, or "public" for the PUBLIC pseudo-role. */
  readonly grantee: RoleKey | "public";
  readonly scope: "database" | "schema" | "tables" | "sequences";
  /** Schema name, for every scope except "database". */
  readonly schema?: string;
  readonly privileges: readonly string[];
  /** Also set as default privileges for objects the owner creates later. */
  readonly alsoDefault?: boolean;
}

export const ROLES: readonly (RoleDefinition | LoginRoleDefinition)[] = [
  {
    key: "owner",
    name: "pulse_analytics_owner",
    login: false,
    memberOf: [],
    usedBy: "nobody directly: owns the database, schema analytics and every table in it",
  },
  {
    key: "migrator",
    name: "pulse_analytics_migrator",
    login: true,
    memberOf: ["owner"],
    usedBy: "db:migrate and CI: DDL through migrations",
    urlVariable: "PULSE_ANALYTICS_MIGRATION_DATABASE_URL",
    localPasswordVariable: "PULSE_LOCAL_MIGRATOR_PASSWORD",
  },
  // A backend process frozen inside a transaction (a GC pause, SIGSTOP, a debugger) would otherwise hold
  // the aggregate rows it locked for as long as it stays frozen, blocking every other writer of the same
  // learners; ingest's transactions take milliseconds, so 10 s is generous.
  {
    key: "app",
    name: "pulse_analytics_app",
    login: true,
    memberOf: [],
    usedBy: "the PULSE backend: reads and writes analytics rows",
    idleInTransactionSessionTimeoutMs: 10_000,
    urlVariable: "PULSE_ANALYTICS_DATABASE_URL",
    localPasswordVariable: "PULSE_LOCAL_APP_PASSWORD",
  },
  {
    key: "readonly",
    name: "pulse_analytics_readonly",
    login: true,
    memberOf: [],
    usedBy: "dashboards and analysts: read only",
    readsFromReplica: true,
    urlVariable: "PULSE_ANALYTICS_READONLY_DATABASE_URL",
    localPasswordVariable: "PULSE_LOCAL_READONLY_PASSWORD",
  },
];

const TABLE_WRITE = ["SELECT", "INSERT", "UPDATE", "DELETE"] as const;

/**
 * Every grant, in the order they are applied. The owner needs none (it owns the objects) and the
 * migrator inherits the owner's rights through membership.
 */
export const GRANTS: readonly PrivilegeGrant[] = [
  // PUBLIC may neither connect to nor create temp tables in the analytics database...
  { grantee: "public", scope: "database", privileges: [] },
  // ...nor create objects in schema public (PostgreSQL 15+ already revokes it; we say it explicitly).
  { grantee: "public", scope: "schema", schema: "public", privileges: ["USAGE"] },
  { grantee: "app", scope: "database", privileges: ["CONNECT"] },
  { grantee: "app", scope: "schema", schema: ANALYTICS_SCHEMA, privileges: ["USAGE"] },
  { grantee: "app", scope: "tables", schema: ANALYTICS_SCHEMA, privileges: TABLE_WRITE, alsoDefault: true },
  { grantee: "app", scope: "sequences", schema: ANALYTICS_SCHEMA, privileges: ["SELECT", "USAGE"], alsoDefault: true },
  { grantee: "readonly", scope: "database", privileges: ["CONNECT"] },
  { grantee: "readonly", scope: "schema", schema: ANALYTICS_SCHEMA, privileges: ["USAGE"] },
  { grantee: "readonly", scope: "tables", schema: ANALYTICS_SCHEMA, privileges: ["SELECT"], alsoDefault: true },
  { grantee: "readonly", scope: "sequences", schema: ANALYTICS_SCHEMA, privileges: ["SELECT"], alsoDefault: true },
];

/** The role definition for a key. */
export function role(key: RoleKey): RoleDefinition {
  const found = ROLES.find((r) => r.key === key);
  if (!found) throw new Error(`unknown role key ${key}`);
  return found;
}

/** A role that logs in, with what is derived from it outside the database. */
export interface LoginRoleDefinition extends RoleDefinition {
  readonly key: LoginRoleKey;
  readonly login: true;
  /** The environment variable its URL goes into (npm start, db:url, the backend's createPool). */
  readonly urlVariable: string;
  /** The environment variable docker compose's init reads its local password from. */
  readonly localPasswordVariable: string;
  /** Its URL points at a read replica when the environment has one (db:url; --primary overrides): it only reads. */
  readonly readsFromReplica?: true;
}

function isLoginRole(definition: RoleDefinition): definition is LoginRoleDefinition {
  return definition.login;
}

export const LOGIN_ROLES: readonly LoginRoleDefinition[] = ROLES.filter(isLoginRole);
export const LOGIN_ROLE_KEYS: readonly LoginRoleKey[] = LOGIN_ROLES.map((r) => r.key);

/**
 * A login role that signs in with a password does so through two login roles of its own, its slots
 * (`pulse_analytics_app_a`, `pulse_analytics_app_b`): members of it, so they hold its privileges, and
 * each with its own password. The role itself then holds the grants and does not log in. One slot is
 * active (its name and password are in the role's secret); a rotation gives the other slot a new
 * password and makes it the active one, leaving the first slot's password valid until the next
 * rotation, so a client holding it keeps connecting (Secrets Manager's "alternating users" strategy).
 * A role that signs in with IAM tokens has no slots: it logs in itself.
 */
export const PASSWORD_SLOTS = ["a", "b"] as const;
export type PasswordSlot = (typeof PASSWORD_SLOTS)[number];

/** The login role of one password slot of a login role: `pulse_analytics_app_a`. */
export function slotRoleName(key: LoginRoleKey, slot: PasswordSlot): string {
  return `${loginRole(key).name}_${slot}`;
}

/** The slot whose name and password the secret holds after `rotations` rotations: a, b, a, … */
export function activeSlot(rotations: number): PasswordSlot {
  return rotations % 2 === 0 ? "a" : "b";
}

/**
 * How many times a slot's password has been generated anew after `rotations` rotations. It changes only
 * when the slot becomes active (a at 2, 4, …; b at 1, 3, …), so one rotation changes one password: the
 * newly active slot's, never the one clients may still be using.
 */
export function slotPasswordGeneration(slot: PasswordSlot, rotations: number): number {
  return slot === "a" ? Math.floor(rotations / 2) : Math.floor((rotations + 1) / 2);
}

/** The Secrets Manager secret of a login role of the database whose RDS identifier is `identifier`. */
export function loginRoleSecretName(identifier: string, key: LoginRoleKey): string {
  return `${identifier}/${loginRole(key).name}`;
}

/** The login role for a key. */
export function loginRole(key: LoginRoleKey): LoginRoleDefinition {
  const found = LOGIN_ROLES.find((r) => r.key === key);
  if (!found) throw new Error(`unknown login role key ${key}`);
  return found;
}
