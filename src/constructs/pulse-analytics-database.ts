// PulseAnalyticsDatabase: the database level of the PULSE Analytics Postgres. The role model of
// src/roles/role-model.ts as postgresql_* resources (database, schema, roles, grants, default
// privileges), each password login role's two password slots, and one Secrets Manager secret per login
// role naming its active slot and that slot's Terraform-generated password.
//
// It lives in its own stack, after the instance's: HashiCorp advises against configuring a provider
// from resources of the same configuration, and the postgresql provider needs the instance, its
// address and its master secret to exist (and be reachable) before it can plan anything.

import { Fn, ITerraformDependable, Token } from "cdktf";
import { Construct } from "constructs";
import { DataAwsCallerIdentity } from "@cdktf/provider-aws/lib/data-aws-caller-identity";
import { DataAwsPartition } from "@cdktf/provider-aws/lib/data-aws-partition";
import { DataAwsRegion } from "@cdktf/provider-aws/lib/data-aws-region";
import { IamPolicy } from "@cdktf/provider-aws/lib/iam-policy";
import { IamRolePolicy } from "@cdktf/provider-aws/lib/iam-role-policy";
import { IamRolePolicyAttachment } from "@cdktf/provider-aws/lib/iam-role-policy-attachment";
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
import {
  activeSlot,
  ANALYTICS_SCHEMA,
  GRANTS,
  LOGIN_ROLES,
  LoginRoleKey,
  loginRoleSecretName,
  PASSWORD_SLOTS,
  PasswordSlot,
  PrivilegeGrant,
  ROLES,
  RoleKey,
  role,
  slotPasswordGeneration,
  slotRoleName,
} from "../roles/role-model";
import * as rules from "../config/rules";
import { InvalidInputError } from "../config/rules";
import { EphemeralSecretVersion } from "./ephemeral-secret-version";
import { PulseAnalyticsInstanceConnection } from "./pulse-analytics-postgres";
import {
  PulseAnalyticsNetworkProps,
  PulseAnalyticsPostgresSettings,
  constructTags,
  validatePulseAnalyticsPostgresSettings,
  withDefaults,
} from "./pulse-analytics-postgres-props";
import { claimIdentifier } from "./one-per-identifier";

export interface PulseAnalyticsDatabaseProps extends PulseAnalyticsPostgresSettings {
  /** The instance the database lives on: `PulseAnalyticsPostgres.connection`, or the same facts read from its stack's outputs. */
  readonly instance: PulseAnalyticsInstanceConnection;
}

/** RDS's role whose members sign in with IAM authentication tokens instead of a password. */
const RDS_IAM_ROLE = "rds_iam";

/** The managed IAM policy that allows signing in as a login role with IAM tokens. */
export function connectPolicyName(identifier: string, key: LoginRoleKey): string {
  return `${identifier}-${role(key).name}-connect`;
}

/** Seconds the postgresql provider waits for a connection; its own default (180 s) hides a wrong host for minutes. */
const ADMIN_CONNECT_TIMEOUT_SECONDS = 15;

export class PulseAnalyticsDatabase extends Construct {
  /** The analytics database's name. */
  public readonly databaseName: string;
  /** The role the PULSE backend logs in as: the app role's active slot, or the app role itself with IAM tokens. */
  public readonly appUsername: string;
  /** The role each login role signs in as now: its active password slot, or itself with IAM tokens. */
  public readonly loginUsernames: Record<LoginRoleKey, string>;
  /** ARN of the Secrets Manager secret of each login role that signs in with a password. */
  public readonly loginRoleSecretArns: Partial<Record<LoginRoleKey, string>>;
  /** ARN of the IAM policy allowing rds-db:connect as each login role that signs in with IAM tokens. */
  public readonly connectPolicyArns: Partial<Record<LoginRoleKey, string>>;
  /** What every grant needs, and the last grant made: the next one waits for it. */
  private readonly grantContext: {
    provider: PostgresqlProvider;
    databaseName: string;
    schemaName: string;
    owner: string;
    previous: ITerraformDependable[];
  };
  private externalGrants = 0;
  /** The database's key and this construct's identifier, for grantReadSecret. */
  private readonly secretKeyArn: string;
  private readonly identifier: string;

  constructor(scope: Construct, id: string, props: PulseAnalyticsDatabaseProps) {
    super(scope, id);
    validatePulseAnalyticsPostgresSettings(props, `PulseAnalyticsDatabase ${this.node.path}`);
    // The network props have defaults of their own and are not read here.
    const p = withDefaults(props as PulseAnalyticsDatabaseProps & PulseAnalyticsNetworkProps);
    claimIdentifier(this, "PulseAnalyticsDatabase", p.identifier);
    const { instance } = props;
    const tags = constructTags(p);
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

    const iamAuthenticated = (key: RoleKey) => (p.iamAuthenticatedRoles as readonly RoleKey[]).includes(key);
    const roles = {} as Record<RoleKey, Role>;
    // Per password role, its two slots: the login roles it signs in through (role-model.ts, PASSWORD_SLOTS).
    const slots: Partial<Record<LoginRoleKey, Record<PasswordSlot, { role: Role; password: Password }>>> = {};
    for (const definition of ROLES) {
      // rds_iam is RDS's own role: a member signs in with IAM tokens only ("a specific user can log in to
      // a database using only one authentication method", RDS User Guide, Database authentication), so an
      // IAM-authenticated role logs in itself and has no password; any other role holds the privileges
      // and its slots log in.
      const logsInItself = definition.login && iamAuthenticated(definition.key);
      roles[definition.key] = new Role(this, `role-${definition.key}`, {
        provider,
        name: definition.name,
        login: logsInItself,
        roles: [...definition.memberOf.map((key) => role(key).name), ...(logsInItself ? [RDS_IAM_ROLE] : [])],
        idleInTransactionSessionTimeout: logsInItself ? definition.idleInTransactionSessionTimeoutMs : undefined,
        dependsOn: definition.memberOf.map((key) => roles[key]),
      });
      if (!definition.login || logsInItself) continue;
      const key = definition.key as LoginRoleKey;
      const rotations = p.passwordRotations[key] ?? 0;
      const pair = {} as Record<PasswordSlot, { role: Role; password: Password }>;
      for (const slot of PASSWORD_SLOTS) {
        const password = new Password(this, `${key}-password-${slot}`, {
          provider: randomProvider,
          length: 40,
          // URL-unreserved specials only: the password survives URLs, dotenv files and shells unquoted.
          special: true,
          overrideSpecial: "-_.~",
          minLower: 1,
          minUpper: 1,
          minNumeric: 1,
          // A change of keepers replaces the password (random provider, RequiresReplace on keepers):
          // raising passwordRotations by one changes the generation of the newly active slot only.
          keepers: { generation: String(slotPasswordGeneration(slot, rotations)) },
        });
        pair[slot] = {
          password,
          role: new Role(this, `role-${key}-${slot}`, {
            provider,
            name: slotRoleName(key, slot),
            login: true,
            password: password.result,
            roles: [definition.name],
            // A session setting follows the role that logs in, not the roles it is a member of.
            idleInTransactionSessionTimeout: definition.idleInTransactionSessionTimeoutMs,
            dependsOn: [roles[key]],
          }),
        };
      }
      slots[key] = pair;
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
    this.grantContext = {
      provider,
      databaseName: database.name,
      schemaName: schema.name,
      owner,
      previous: [masterInOwner, schema, ...Object.values(roles)],
    };
    for (const grant of GRANTS) this.addGrant(grant, granteeName(grant), grant.grantee);

    const secretArns: Partial<Record<LoginRoleKey, string>> = {};
    const loginUsernames = {} as Record<LoginRoleKey, string>;
    for (const definition of LOGIN_ROLES) {
      const key = definition.key;
      const pair = slots[key];
      if (pair === undefined) {
        loginUsernames[key] = definition.name;
        continue;
      }
      const active = activeSlot(p.passwordRotations[key] ?? 0);
      loginUsernames[key] = slotRoleName(key, active);
      const secret = new SecretsmanagerSecret(this, `${key}-secret`, {
        name: loginRoleSecretName(p.identifier, key),
        description: `PULSE Analytics Postgres ${definition.name} login (${definition.usedBy})`,
        kmsKeyId: instance.kmsKeyArn,
        recoveryWindowInDays: p.secretRecoveryWindowDays,
        tags,
      });
      // The RDS secret JSON shape, so tools that read RDS secrets read these too. A new value replaces
      // the version (secret_string forces a new one), and the old one keeps AWSCURRENT until the new
      // PutSecretValue takes it (resourceSecretVersionDelete never removes AWSCURRENT), so a reader
      // never finds the secret empty. It waits for both slots: the secret names the active slot only
      // once that slot's new password is set in the database.
      new SecretsmanagerSecretVersion(this, `${key}-secret-value`, {
        secretId: secret.id,
        secretString: Fn.jsonencode({
          engine: "postgres",
          host: instance.address,
          port: instance.port,
          dbname: database.name,
          username: loginUsernames[key],
          password: pair[active].password.result,
          dbInstanceIdentifier: p.identifier,
        }),
        dependsOn: PASSWORD_SLOTS.map((slot) => pair[slot].role),
      });
      secretArns[key] = secret.arn;
    }
    this.databaseName = p.databaseName;
    this.appUsername = loginUsernames.app;
    this.loginUsernames = loginUsernames;
    this.loginRoleSecretArns = secretArns;
    this.secretKeyArn = instance.kmsKeyArn;
    this.identifier = p.identifier;
    this.connectPolicyArns = this.createConnectPolicies(p.identifier, p.iamAuthenticatedRoles, instance.resourceIds, tags);
  }

  /**
   * One managed IAM policy per IAM-authenticated login role, allowing `rds-db:connect` as that role on
   * this instance (`arn:<partition>:rds-db:<region>:<account>:dbuser:<DbiResourceId>/<role>`, RDS User
   * Guide, "Creating and using an IAM policy for IAM database access"): attach it to the IAM role the
   * backend runs as (an EKS pod identity, an ECS task role), or let grantConnect do it.
   */
  private createConnectPolicies(
    identifier: string,
    keys: readonly LoginRoleKey[],
    resourceIds: string[],
    tags: Record<string, string>,
  ): Partial<Record<LoginRoleKey, string>> {
    if (keys.length === 0) return {};
    const partition = new DataAwsPartition(this, "partition").partition;
    const region = new DataAwsRegion(this, "region").region;
    const account = new DataAwsCallerIdentity(this, "account").accountId;
    const arns: Partial<Record<LoginRoleKey, string>> = {};
    for (const key of keys) {
      const { name } = role(key);
      const policy = new IamPolicy(this, `${key}-connect-policy`, {
        name: connectPolicyName(identifier, key),
        description: `Lets its holder sign in to PULSE Analytics Postgres ${identifier} as ${name} with RDS IAM tokens`,
        policy: Fn.jsonencode({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "rds-db:connect",
              // Each instance (the primary, each read replica) is named by its own DbiResourceId.
              Resource: Token.asList(Fn.formatlist(`arn:%s:rds-db:%s:%s:dbuser:%s/${name}`, [partition, region, account, resourceIds])),
            },
          ],
        }),
        tags,
      });
      arns[key] = policy.arn;
    }
    return arns;
  }

  /**
   * Lets an IAM role (by name: the backend's EKS pod identity or ECS task role, in this account) sign in
   * as `loginRole`, by attaching that role's connect policy to it. The login role must be one of
   * `iamAuthenticatedRoles`. The attachment's construct id is the role name, so other calls never
   * rename it; a role name known only at plan time (`backendRole.name`, a token) needs `id`.
   */
  public grantConnect(iamRoleName: string, loginRole: LoginRoleKey, options: { id?: string } = {}): void {
    const { id, target: policyArn } = this.grantTarget(
      "grantConnect",
      "connect",
      iamRoleName,
      loginRole,
      options,
      this.connectPolicyArns[loginRole],
      `${loginRole} signs in with a password here; add it to iamAuthenticatedRoles to grant IAM sign-in.`,
    );
    new IamRolePolicyAttachment(this, id, { role: iamRoleName, policyArn });
  }

  /**
   * Lets an IAM role (by name, in this account: the backend's EKS pod identity or ECS task role) read a
   * password login role's secret, as `createPool({ credentialsSecret })` does at each new connection:
   * an inline policy allowing `secretsmanager:GetSecretValue` on that secret, and `kms:Decrypt` on the
   * database's key through Secrets Manager only. The login role must sign in with a password. Like
   * grantConnect, a role name known only at plan time (a token) needs `id`.
   */
  public grantReadSecret(iamRoleName: string, loginRole: LoginRoleKey, options: { id?: string } = {}): void {
    const { id, target: secretArn } = this.grantTarget(
      "grantReadSecret",
      "read-secret",
      iamRoleName,
      loginRole,
      options,
      this.loginRoleSecretArns[loginRole],
      `${loginRole} signs in with IAM tokens here and has no secret; use grantConnect.`,
    );
    const region = ((this.node.tryFindChild("region") as DataAwsRegion | undefined) ?? new DataAwsRegion(this, "region")).region;
    new IamRolePolicy(this, id, {
      role: iamRoleName,
      name: `${this.identifier}-${role(loginRole).name}-read-secret`,
      policy: Fn.jsonencode({
        Version: "2012-10-17",
        Statement: [
          { Effect: "Allow", Action: "secretsmanager:GetSecretValue", Resource: secretArn },
          {
            Effect: "Allow",
            Action: "kms:Decrypt",
            Resource: this.secretKeyArn,
            // Only to decrypt a secret through Secrets Manager, never the database's storage key for anything else.
            Condition: { StringEquals: { "kms:ViaService": `secretsmanager.${region}.amazonaws.com` } },
          },
        ],
      }),
    });
  }

  /**
   * The checks grantConnect and grantReadSecret share, and the construct id of the grant: the login
   * role must have a `target` (a policy, a secret), else `refusal` says why not; an IAM role name must
   * be valid, or a token with an `id`; each grant is made once per IAM role and login role.
   */
  private grantTarget<T>(
    method: string,
    kind: string,
    iamRoleName: string,
    loginRole: LoginRoleKey,
    options: { id?: string },
    target: T | undefined,
    refusal: string,
  ): { id: string; target: T } {
    const literal = !Token.isUnresolved(iamRoleName);
    const where = `PulseAnalyticsDatabase ${this.node.path}: ${method}(${literal ? JSON.stringify(iamRoleName) : "a token"}, ${JSON.stringify(loginRole)})`;
    if (target === undefined) throw new InvalidInputError(`${where}: ${refusal}`);
    if (literal && !rules.iamRoleNameRule.isValid(iamRoleName)) {
      throw new InvalidInputError(`${where}: allowed is ${rules.iamRoleNameRule.allowed()}.`);
    }
    if (!literal && options.id === undefined) {
      throw new InvalidInputError(`${where}: a role name known only at plan time needs an id: ${method}(name, "${loginRole}", { id: "…" }).`);
    }
    const id = `${loginRole}-${kind}-${options.id ?? iamRoleName}`;
    if (this.node.tryFindChild(id)) throw new InvalidInputError(`${where} was already called (${id}): once per IAM role and login role.`);
    return { id, target };
  }

  /**
   * Gives an existing PostgreSQL role (one made outside this construct: a BI tool's, an analyst
   * group) what the readonly role has: CONNECT, USAGE on schema analytics, SELECT on its tables and
   * sequences, now and for tables migrations create later (default privileges). The grants join the
   * construct's serialized chain, so they neither race the others nor outlive the master's membership.
   */
  public grantReadTo(roleName: string): void {
    const where = `PulseAnalyticsDatabase ${this.node.path}: grantReadTo(${JSON.stringify(roleName)})`;
    if (!Token.isUnresolved(roleName)) {
      if (!rules.roleNameRule.isValid(roleName)) throw new InvalidInputError(`${where}: allowed is ${rules.roleNameRule.allowed()}.`);
      const ownNames = [...ROLES.map((r) => r.name), ...LOGIN_ROLES.flatMap((r) => PASSWORD_SLOTS.map((slot) => slotRoleName(r.key, slot)))];
      if (ownNames.includes(roleName) || roleName === "public") {
        throw new InvalidInputError(`${where}: that role is the role model's own; give an outside role.`);
      }
    }
    const key = `external-${Token.isUnresolved(roleName) ? this.externalGrants : roleName}`;
    if (this.node.tryFindChild(`grant-${key}-database`)) throw new InvalidInputError(`${where} was already called: once per role.`);
    this.externalGrants++;
    for (const grant of GRANTS.filter((g) => g.grantee === "readonly")) this.addGrant(grant, roleName, key);
  }

  /** One grant (and its default privileges), after the one before it: the catalog rows they rewrite are shared. */
  private addGrant(grant: PrivilegeGrant, roleName: string, idPart: string): void {
    const { provider, databaseName, schemaName, owner } = this.grantContext;
    const common = { provider, database: databaseName, role: roleName, dependsOn: this.grantContext.previous };
    const schema = grant.schema === ANALYTICS_SCHEMA ? schemaName : grant.schema;
    const grantResource = new Grant(this, `grant-${idPart}-${grantTarget(grant)}`, {
      ...common,
      objectType: grantObjectType(grant),
      schema,
      objects: grant.scope === "tables" || grant.scope === "sequences" ? [] : undefined,
      privileges: [...grant.privileges],
    });
    this.grantContext.previous = [grantResource];
    if (grant.alsoDefault) {
      this.grantContext.previous = [
        new DefaultPrivileges(this, `default-privileges-${idPart}-${grantTarget(grant)}`, {
          ...common,
          dependsOn: this.grantContext.previous,
          owner,
          schema,
          objectType: grantObjectType(grant),
          privileges: [...grant.privileges],
        }),
      ];
    }
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
