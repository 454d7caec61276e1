// The database level of the PULSE Analytics Postgres: the role model of src/db/role-model.ts rendered
// as postgresql_* resources (database, schema, roles, grants, default privileges), and one Secrets
// Manager secret per login role holding its Terraform-generated password.

import { Fn, ITerraformDependable } from "cdktf";
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
import { ANALYTICS_SCHEMA, GRANTS, LOGIN_ROLES, LoginRoleKey, PrivilegeGrant, ROLES, RoleKey, role } from "../db/role-model";

export interface AnalyticsDatabaseAccessProps {
  /** Prefix of provider aliases and secret names: the instance identifier. */
  readonly identifier: string;
  readonly databaseName: string;
  readonly engineMajorVersion: number;
  /** Where the postgresql provider connects (the instance, or a tunnel's local end). */
  readonly adminHost: string;
  readonly adminPort: number;
  readonly masterUsername: string;
  /** The master password, read from the RDS-managed secret at plan/apply time (a token, never a literal). */
  readonly masterPassword: string;
  /** What the login-role secrets tell clients to connect to: the instance address and port. */
  readonly instanceAddress: string;
  readonly instancePort: number;
  readonly kmsKeyArn: string;
  readonly secretRecoveryWindowDays: number;
  readonly tags: Record<string, string>;
}

/** Seconds the postgresql provider waits for a connection; its own default (180 s) hides a wrong host for minutes. */
const ADMIN_CONNECT_TIMEOUT_SECONDS = 15;

export class AnalyticsDatabaseAccess extends Construct {
  /** ARN of the Secrets Manager secret of each login role. */
  public readonly loginRoleSecretArns: Record<LoginRoleKey, string>;

  constructor(scope: Construct, id: string, props: AnalyticsDatabaseAccessProps) {
    super(scope, id);

    // Aliased so two PulseAnalyticsPostgres in one stack keep separate connections.
    const provider = new PostgresqlProvider(this, "postgresql", {
      alias: `${props.identifier.replace(/-/g, "_")}_admin`,
      host: props.adminHost,
      port: props.adminPort,
      database: "postgres",
      username: props.masterUsername,
      password: props.masterPassword,
      // RDS's master user is not a superuser: the provider then grants itself role memberships as it needs them.
      superuser: false,
      // TLS always (the parameter group forces it). "require" rather than "verify-full" because the
      // admin connection may go through a tunnel to localhost, whose name the certificate does not carry.
      sslmode: "require",
      connectTimeout: ADMIN_CONNECT_TIMEOUT_SECONDS,
      expectedVersion: String(props.engineMajorVersion),
    });
    const randomProvider = new RandomProvider(this, "random", { alias: `${props.identifier.replace(/-/g, "_")}_random` });

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
        dependsOn: definition.memberOf.map((key) => roles[key]),
      });
    }
    const owner = role("owner").name;

    const database = new Database(this, "database", {
      provider,
      name: props.databaseName,
      owner,
      encoding: "UTF8",
      dependsOn: [roles.owner],
    });
    const schema = new Schema(this, "schema", {
      provider,
      name: ANALYTICS_SCHEMA,
      database: database.name,
      owner,
      dropCascade: false,
    });

    // Privileges on the database can only be granted or revoked by its owner (or a member of it); the
    // provider joins the owner role only while it creates the database. Without this membership the
    // master's GRANT and REVOKE on the database are silent no-ops ("no privileges were granted").
    const masterInOwner = new GrantRole(this, "master-member-of-owner", {
      provider,
      role: props.masterUsername,
      grantRole: owner,
      dependsOn: [database, schema],
    });

    // postgresql_grant and postgresql_default_privileges rewrite the same catalog rows; run in parallel
    // they fail with "tuple concurrently updated", so each waits for the one before.
    let previous: ITerraformDependable[] = [masterInOwner, ...Object.values(roles)];
    for (const grant of GRANTS) {
      const common = { provider, database: database.name, role: granteeName(grant), dependsOn: previous };
      const grantResource = new Grant(this, `grant-${grant.grantee}-${grantTarget(grant)}`, {
        ...common,
        objectType: grantObjectType(grant),
        schema: grant.schema,
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
            schema: grant.schema,
            objectType: grantObjectType(grant),
            privileges: [...grant.privileges],
          }),
        ];
      }
    }

    const secretArns = {} as Record<LoginRoleKey, string>;
    for (const definition of LOGIN_ROLES) {
      const key = definition.key as LoginRoleKey;
      const secret = new SecretsmanagerSecret(this, `${key}-secret`, {
        name: `${props.identifier}/${definition.name}`,
        description: `PULSE Analytics Postgres ${definition.name} login (${definition.usedBy})`,
        kmsKeyId: props.kmsKeyArn,
        recoveryWindowInDays: props.secretRecoveryWindowDays,
        tags: props.tags,
      });
      // The RDS secret JSON shape, so tools that read RDS secrets read these too.
      new SecretsmanagerSecretVersion(this, `${key}-secret-value`, {
        secretId: secret.id,
        secretString: Fn.jsonencode({
          engine: "postgres",
          host: props.instanceAddress,
          port: props.instancePort,
          dbname: database.name,
          username: roles[key].name,
          password: passwords[key]!.result,
          dbInstanceIdentifier: props.identifier,
        }),
      });
      secretArns[key] = secret.arn;
    }
    this.loginRoleSecretArns = secretArns;
  }
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
