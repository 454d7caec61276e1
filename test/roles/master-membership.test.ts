// Why the cloud stack treats the master's membership in pulse_analytics_owner as it does (issue 9,
// findings 1 and 2), shown on a real PostgreSQL 17 whose admin is, like the RDS master, a
// CREATEROLE non-superuser that created the role model (`npm start`'s bootstrap).

import { Client } from "pg";
import { LOCAL_ADMIN_ROLE } from "../../src/roles/bootstrap-sql";
import { role } from "../../src/roles/role-model";
import { useLocalDatabase, withClient } from "../support/local-database";

const OWNER = role("owner").name;
const local = useLocalDatabase();
const asAdmin = <T>(work: (client: Client) => Promise<T>) =>
  withClient(local.db.config(LOCAL_ADMIN_ROLE, local.db.credentials().admin, "postgres"), work);

describe("the admin's memberships in the owner role (PostgreSQL 16+)", () => {
  it("are two rows: the ADMIN-only one PostgreSQL gives a role's creator, and the granted one", async () => {
    // PostgreSQL docs, CREATE ROLE: a CREATEROLE non-superuser that creates a role "is automatically
    // granted membership in it WITH ADMIN OPTION", granted by the bootstrap superuser (rdsadmin on RDS).
    const rows = await asAdmin(
      async (client) =>
        (
          await client.query(
            `SELECT pg_get_userbyid(grantor) AS grantor, admin_option, inherit_option, set_option
           FROM pg_auth_members WHERE member = $1::regrole AND roleid = $2::regrole ORDER BY admin_option`,
            [LOCAL_ADMIN_ROLE, OWNER],
          )
        ).rows,
    );
    expect(rows).toEqual([
      { grantor: LOCAL_ADMIN_ROLE, admin_option: false, inherit_option: true, set_option: true },
      { grantor: "postgres", admin_option: true, inherit_option: false, set_option: false },
    ]);
    // A read of "the" membership of (member, role) that picks either row sees with_admin_option flip,
    // which is why the stack ignores that attribute (cyrilgdn/terraform-provider-postgresql PR #667).
  });

  it("cannot be made to agree by granting WITH ADMIN OPTION: the grantor of the admin's own ADMIN is the superuser", async () => {
    const error = await asAdmin((client) =>
      client.query(`GRANT ${OWNER} TO ${LOCAL_ADMIN_ROLE} WITH ADMIN OPTION`).then(
        () => undefined,
        (e) => e,
      ),
    );
    expect(error?.message).toMatch(/ADMIN option cannot be granted back to your own grantor/);
  });

  it("is what lets the admin reach the database: without the granted row it has no CONNECT, so it must be revoked last on destroy", async () => {
    const canConnect = (client: Client) =>
      client.query("SELECT has_database_privilege(current_user, 'pulse_analytics', 'CONNECT') AS ok").then((r) => r.rows[0].ok as boolean);
    const [before, after] = await asAdmin(async (client) => {
      await client.query("BEGIN");
      try {
        const granted = await canConnect(client);
        // What destroying postgresql_grant_role runs (REVOKE role FROM member): only the granted row goes.
        await client.query(`REVOKE ${OWNER} FROM ${LOCAL_ADMIN_ROLE}`);
        return [granted, await canConnect(client)];
      } finally {
        await client.query("ROLLBACK");
      }
    });
    expect({ before, after }).toEqual({ before: true, after: false });
  });
});
