// PulseAnalyticsDatabase: the database level of the PULSE Analytics Postgres. The role model of
// src/roles/role-model.ts as postgresql_* resources (database, schema, roles, grants, default
// privileges), and one Secrets Manager secret per login role holding its Terraform-generated password.
//
// It lives in its own stack, after the instance's: HashiCorp advises against configuring a provider
// from resources of the same configuration, and the postgresql provider needs the instance, its
// address and its master secret to exist (and be reachable) before it can plan anything.

import { Fn, ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { SecretsmanagerSecret } from "@cdktf/provider-aws/lib/secretsmanager-secret";
import { SecretsmanagerSecretVersion } from "@cdktf/provider-aws/lib/secretsmanager-secret-version";
import { Database } from "@cdktf/provider-postgresql/lib/database";
import { DefaultPrivileges } from "@cdktf/provider-postgresql/lib/default-privileges";
import { Grant } from "@cdktf/provider-postgresql/lib/grant";
import { GrantRole } from "@cdktf/provider-postgresql/lib/grant-role";
import { PostgresqlProvider } from "@cdktf/provider-postgresql/lib/provider";
import { Role } from "@cdktf/provider-postgresql/lib/role";
import { Schema } from "@cdktf/provider-postgresql/lib/schema";
import { Password } from "@cdktf/provider-random/lib/password";
import { RandomProvider } from "@cdktf/provider-random/lib/provider";
import { ANALYTICS_SCHEMA, GRANTS, LOGIN_ROLES, LoginRoleKey, loginRoleSecretName, PrivilegeGrant, ROLES, RoleKey, role } from "../roles/role-model";
import { EphemeralSecretVersion } from "./ephemeral-secret-version";
import { PulseAnalyticsInstanceConnection } from "./pulse-analytics-postgres";
import {
  PulseAnalyticsNetworkProps,
  PulseAnalyticsPostgresSizing,
  standardTags,
  validatePulseAnalyticsPostgresSizing,
  withDefaults,
} from "./pulse-analytics-postgres-props";
import { claimIdentifier } from "./one-per-identifier";

export interface PulseAnalyticsDatabaseProps extends PulseAnalyticsPostgresSizing {
  /** The instance the database lives on: `PulseAnalyticsPostgres.connection`, or the same facts read from its stack's outputs. */
  readonly instance: PulseAnalyticsInstanceConnection;
}

/** Seconds the postgresql provider waits for a connection; its own default (180 s) hides a wrong host for minutes. */
const ADMIN_CONNECT_TIMEOUT_SECONDS = 15;

export class PulseAnalyticsDatabase extends Construct {
  /** The analytics database's name. */
  public readonly databaseName: string;
  /** The role the PULSE backend logs in as. */
  public readonly appUsername: string;
  /** ARN of the Secrets Manager secret of each login role. */
  public readonly loginRoleSecretArns: Record<LoginRoleKey, string>;

  constructor(scope: Construct, id: string, props: PulseAnalyticsDatabaseProps) {
    super(scope, id);
    validatePulseAnalyticsPostgresSizing(props, `PulseAnalyticsDatabase ${this.node.path}`);
    // The network props have defaults of their own and are not read here.
    const p = withDefaults(props as PulseAnalyticsDatabaseProps & PulseAnalyticsNetworkProps);
    claimIdentifier(this, "PulseAnalyticsDatabase", p.identifier);
    const { instance } = props;
    const tags = standardTags(p);
    const aliasPrefix = p.identifier.replace(/-/g, "_");

    // The master password is read when Terraform runs (plan and apply alike) and is kept in neither
    // the state nor a saved plan: RDS rotates it every 7 days, so a value saved with a plan goes stale.
    const masterSecret = new EphemeralSecretVersion(this, "master-secret", { secretId: instance.masterSecretArn });
    // Aliased so two databases in one stack keep separate connections.
    const provider = new PostgresqlProvider(this, "postgresql", {
      alias: `${aliasPrefix}_admin`,
      host: Token.asString(orInstanceValue(p.adminHost, instance.address)),
      port: Token.asNumber(orInstanceValue(p.adminPort, instance.port)),
      database: "postgres",
      username: instance.masterUsername,
      password: Token.asString(Fn.lookup(Fn.jsondecode(masterSecret.secretString), "password")),
      // RDS's master user is not a superuser: the provider then grants itself role memberships as it needs them.
      superuser: false,
      // TLS always (the parameter group forces it). "require" rather than "verify-full" because the
      // admin connection may go through a tunnel to localhost, whose name the certificate does not carry.
      sslmode: "require",
      connectTimeout: ADMIN_CONNECT_TIMEOUT_SECONDS,
      expectedVersion: String(p.engineMajorVersion),
    });
    const randomProvider = new RandomProvider(this, "random", { alias: `${aliasPrefix}_random` });

    const roles = {} as Record<RoleKey, Role>;
    const passwords = {} as Partial<Record<RoleKey, Password>>;
    for (const definition of ROLES) {
      if (definition.login) {
        passwords[definition.key] = new Password(this, `${definition.key}-password`, {
          provider: randomProvider,
          length: 40,
          // URL-unreserved specials only: the password survives URLs, dotenv files and shells unquoted.
          special: true,
          overrideSpecial: "-_.~",
          minLower: 1,
          minUpper: 1,
          minNumeric: 1,
        });
      }
      roles[definition.key] = new Role(this, `role-${definition.key}`, {
        provider,
        name: definition.name,
        login: definition.login,
        password: passwords[definition.key]?.result,
        roles: definition.memberOf.map((key) => role(key).name),
        idleInTransactionSessionTimeout: definition.idleInTransactionSessionTimeoutMs,
        dependsOn: definition.memberOf.map((key) => roles[key]),
      });
    }
    const owner = role("owner").name;

    const database = new Database(this, "database", {
      provider,
      name: p.databaseName,
      owner,
      encoding: "UTF8",
      dependsOn: [roles.owner],
      lifecycle: { preventDestroy: p.deletionProtection },
    });

    // Privileges on the database can only be granted or revoked by its owner (or a member of it); the
    // provider joins the owner role only while it creates the database. Without this membership the
    // master's GRANT and REVOKE on the database are silent no-ops ("no privileges were granted"), and
    // the master could not even connect once PUBLIC's CONNECT is revoked. So it is created right after
    // the database and destroyed last: the schema and every grant depend on it, and Terraform destroys
    // dependents first (otherwise destroy fails with "permission denied for database" and the state
    // is stuck, since every later refresh fails the same way).
    const masterInOwner = new GrantRole(this, "master-member-of-owner", {
      provider,
      role: instance.masterUsername,
      grantRole: owner,
      dependsOn: [database],
      lifecycle: {
        // PostgreSQL 16+: the master also holds an ADMIN-only membership in every role it creates
        // (grantor: rdsadmin). The provider's read (resource_postgresql_grant_role.go, readGrantRole)
        // may pick that row and store with_admin_option = true, and since the attribute forces
        // replacement every plan would revoke and re-grant forever (cyrilgdn/terraform-provider-postgresql
        // PR #667). Setting it to true is no fix: "ADMIN option cannot be granted back to your own grantor".
        ignoreChanges: ["with_admin_option"],
      },
    });
    const schema = new Schema(this, "schema", {
      provider,
      name: ANALYTICS_SCHEMA,
      database: database.name,
      owner,
      // A protected environment never drops its tables with the schema (DROP SCHEMA … RESTRICT fails
      // while tables exist); an unprotected one (dev) is torn down whole, tables and all.
      dropCascade: !p.deletionProtection,
      dependsOn: [masterInOwner],
      lifecycle: { preventDestroy: p.deletionProtection },
    });

    // postgresql_grant and postgresql_default_privileges rewrite the same catalog rows; run in parallel
    // they fail with "tuple concurrently updated", so each waits for the one before. Each also waits
    // for the membership (destroyed after every grant) and, when it names schema analytics, for the
    // schema (or destroy races the schema's drop: "tuple concurrently deleted").
    let previous: ITerraformDependable[] = [masterInOwner, schema, ...Object.values(roles)];
    for (const grant of GRANTS) {
      const common = { provider, database: database.name, role: granteeName(grant), dependsOn: previous };
      const grantResource = new Grant(this, `grant-${grant.grantee}-${grantTarget(grant)}`, {
        ...common,
        objectType: grantObjectType(grant),
        schema: grant.schema === ANALYTICS_SCHEMA ? schema.name : grant.schema,
        objects: grant.scope === "tables" || grant.scope === "sequences" ? [] : undefined,
        privileges: [...grant.privileges],
      });
      previous = [grantResource];
      if (grant.alsoDefault) {
        previous = [
          new DefaultPrivileges(this, `default-privileges-${grant.grantee}-${grantTarget(grant)}`, {
            ...common,
            dependsOn: previous,
            owner,
            schema: grant.schema === ANALYTICS_SCHEMA ? schema.name : grant.schema,
            objectType: grantObjectType(grant),
            privileges: [...grant.privileges],
          }),
        ];
      }
    }

    const secretArns = {} as Record<LoginRoleKey, string>;
    for (const definition of LOGIN_ROLES) {
      const key = definition.key;
      const secret = new SecretsmanagerSecret(this, `${key}-secret`, {
        name: loginRoleSecretName(p.identifier, key),
        description: `PULSE Analytics Postgres ${definition.name} login (${definition.usedBy})`,
        kmsKeyId: instance.kmsKeyArn,
        recoveryWindowInDays: p.secretRecoveryWindowDays,
        tags,
      });
      // The RDS secret JSON shape, so tools that read RDS secrets read these too.
      new SecretsmanagerSecretVersion(this, `${key}-secret-value`, {
        secretId: secret.id,
        secretString: Fn.jsonencode({
          engine: "postgres",
          host: instance.address,
          port: instance.port,
          dbname: database.name,
          username: roles[key].name,
          password: passwords[key]!.result,
          dbInstanceIdentifier: p.identifier,
        }),
      });
      secretArns[key] = secret.arn;
    }
    this.databaseName = p.databaseName;
    this.appUsername = role("app").name;
    this.loginRoleSecretArns = secretArns;
  }
}

/**
 * An override that may be unset, a literal, or a Terraform expression (a variable) that is null or
 * empty at plan time; the instance's own value stands in whenever the override says nothing.
 */
function orInstanceValue(override: string | number | undefined, instanceValue: string | number): unknown {
  if (override === undefined) return instanceValue;
  return Token.isUnresolved(override) ? Fn.coalesce([override, instanceValue]) : override;
}

function granteeName(grant: PrivilegeGrant): string {
  return grant.grantee === "public" ? "public" : role(grant.grantee).name;
}

function grantObjectType(grant: PrivilegeGrant): string {
  return { database: "database", schema: "schema", tables: "table", sequences: "sequence" }[grant.scope];
}

function grantTarget(grant: PrivilegeGrant): string {
  return grant.scope === "schema" ? `schema-${grant.schema}` : grant.scope;
}
