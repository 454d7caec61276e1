// Applies the role-model bootstrap SQL to a running local PostgreSQL: the superuser creates the admin
// role, the admin creates the roles, the database and the grants, each step all-or-nothing. Safe to
// run on every start: it converges on the role model.

import { Client, ClientConfig } from "pg";
import { adminRoleSql, createDatabaseSql, databaseSql, LOCAL_ADMIN_ROLE, PasswordSql, rolesSql } from "../roles/bootstrap-sql";
import { LOGIN_ROLE_KEYS, LoginRoleKey } from "../roles/role-model";
import { inTransactionOn } from "../client/transaction";

/** The passwords of the local database, generated once per data directory. */
/** The local cluster's generated passwords: its superuser's, the admin's, and each login role's. */
export type LocalCredentials = Readonly<Record<"superuser" | "admin" | LoginRoleKey, string>>;

export interface BootstrapOptions {
  readonly host: string;
  readonly port: number;
  readonly superuser: string;
  readonly databaseName: string;
  readonly credentials: LocalCredentials;
}

export async function bootstrapLocalDatabase(options: BootstrapOptions): Promise<void> {
  const { host, port, credentials, databaseName } = options;
  const connect = (user: string, password: string, database: string): ClientConfig => ({ host, port, user, password, database });

  await withClient(connect(options.superuser, credentials.superuser, "postgres"), (client) =>
    inTransaction(client, adminRoleSql({ literal: credentials.admin })),
  );
  await withClient(connect(LOCAL_ADMIN_ROLE, credentials.admin, "postgres"), async (client) => {
    await inTransaction(
      client,
      rolesSql(Object.fromEntries(LOGIN_ROLE_KEYS.map((key) => [key, { literal: credentials[key] }])) as Record<LoginRoleKey, PasswordSql>),
    );
    const existing = await client.query("SELECT 1 FROM pg_catalog.pg_database WHERE datname = $1", [databaseName]);
    if (existing.rowCount === 0) await client.query(createDatabaseSql({ databaseName }));
  });
  await withClient(connect(LOCAL_ADMIN_ROLE, credentials.admin, databaseName), (client) => inTransaction(client, databaseSql({ databaseName })));
}

async function withClient<T>(config: ClientConfig, work: (client: Client) => Promise<T>): Promise<T> {
  const client = new Client(config);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end();
  }
}

async function inTransaction(client: Client, statements: string[]): Promise<void> {
  await inTransactionOn(client, async () => {
    for (const statement of statements) await client.query(statement);
  });
}
