// The order Terraform creates and destroys the database level in, read from the dependency graph of
// each synthesized database stack (depends_on and references), and what a destroy of each
// environment may remove (issue 9, findings 2 and 3).
//
// Terraform destroys a resource only after everything that depends on it (Terraform docs, "Resource
// behavior": "destroy … in the reverse order of dependencies"). The master's membership in the owner
// role is what lets it connect to pulse_analytics once PUBLIC's CONNECT is revoked
// (test/roles/master-membership.test.ts), so it must be destroyed after the schema and every grant, or
// destroy fails with `pq: permission denied for database "pulse_analytics"` and every later refresh too.

import { synthApp, TerraformJson } from "../support/synth";

const stacks = synthApp();
const ENVIRONMENTS = ["dev", "staging", "prod"] as const;

/** Each resource address and the addresses it depends on, explicitly or by reference. */
function dependencyGraph(json: TerraformJson): Map<string, Set<string>> {
  const addresses = Object.entries(json.resource).flatMap(([type, blocks]) => Object.keys(blocks).map((name) => `${type}.${name}`));
  const graph = new Map<string, Set<string>>();
  for (const address of addresses) {
    const [type, name] = address.split(".");
    const { "//": _metadata, depends_on: dependsOn = [], ...body } = json.resource[type][name];
    const text = JSON.stringify(body);
    const referenced = addresses.filter((other) => other !== address && text.includes(`${other}.`));
    graph.set(address, new Set([...(dependsOn as string[]), ...referenced]));
  }
  return graph;
}

/** Everything `address` depends on, directly or not: what must exist before it and outlive it. */
function ancestors(graph: Map<string, Set<string>>, address: string): Set<string> {
  const seen = new Set<string>();
  const visit = (at: string) => {
    for (const next of graph.get(at) ?? []) {
      if (!seen.has(next)) {
        seen.add(next);
        visit(next);
      }
    }
  };
  visit(address);
  return seen;
}

describe.each(ENVIRONMENTS)("the %s database stack", (env) => {
  const json = stacks[env];
  const graph = dependencyGraph(json);
  const only = (type: string) => {
    const names = Object.keys(json.resource[type]);
    expect(names).toHaveLength(1);
    return `${type}.${names[0]}`;
  };
  const all = (...types: string[]) => types.flatMap((type) => Object.keys(json.resource[type] ?? {}).map((name) => `${type}.${name}`));
  const membership = only("postgresql_grant_role");
  const schema = only("postgresql_schema");
  const database = only("postgresql_database");
  const grants = all("postgresql_grant", "postgresql_default_privileges");

  it("has an acyclic dependency graph", () => {
    for (const address of graph.keys()) expect({ address, cycle: ancestors(graph, address).has(address) }).toEqual({ address, cycle: false });
  });

  it("creates the master's membership right after the database, before the schema and any grant", () => {
    expect(ancestors(graph, membership)).toContain(database);
    expect([...ancestors(graph, membership)].filter((a) => a === schema || grants.includes(a))).toEqual([]);
  });

  it("destroys the master's membership only after the schema and every grant and default privilege, in any order Terraform picks", () => {
    expect(grants.length).toBeGreaterThanOrEqual(10);
    for (const dependent of [schema, ...grants]) {
      expect({ dependent, waitsForMembership: ancestors(graph, dependent).has(membership) }).toEqual({ dependent, waitsForMembership: true });
    }
  });

  it("revokes every grant on schema analytics before it drops the schema (no 'tuple concurrently deleted')", () => {
    const onAnalytics = grants.filter((address) => {
      const [type, name] = address.split(".");
      return JSON.stringify(json.resource[type][name].schema ?? "").includes("postgresql_schema.");
    });
    expect(onAnalytics.length).toBeGreaterThanOrEqual(8);
    for (const grant of onAnalytics) expect({ grant, waitsForSchema: ancestors(graph, grant).has(schema) }).toEqual({ grant, waitsForSchema: true });
  });
});

describe("what a destroy of each environment removes", () => {
  const schemaOf = (env: string) => Object.values(stacks[env].resource.postgresql_schema)[0];
  const databaseOf = (env: string) => Object.values(stacks[env].resource.postgresql_database)[0];
  const instanceOf = (env: string) => Object.values(stacks[`${env}-instance`].resource.aws_db_instance)[0];
  const keyOf = (env: string) => Object.values(stacks[`${env}-instance`].resource.aws_kms_key)[0];

  it("is all of dev, tables included: `npx cdktf destroy dev dev-instance` drops the schema with CASCADE", () => {
    // postgresql_schema drops with RESTRICT unless drop_cascade (resource_postgresql_schema.go), which
    // fails as soon as migrations have created tables.
    expect(schemaOf("dev")).toMatchObject({ drop_cascade: true, lifecycle: { prevent_destroy: false } });
    expect(databaseOf("dev").lifecycle).toEqual({ prevent_destroy: false });
    expect(instanceOf("dev")).toMatchObject({ deletion_protection: false, skip_final_snapshot: true, lifecycle: { prevent_destroy: false } });
  });

  it.each(["staging", "prod"])("is refused at plan time in %s: no plan may destroy the instance, its key, the database or the schema", (env) => {
    expect(schemaOf(env)).toMatchObject({ drop_cascade: false, lifecycle: { prevent_destroy: true } });
    expect(databaseOf(env).lifecycle).toEqual({ prevent_destroy: true });
    expect(instanceOf(env)).toMatchObject({ deletion_protection: true, skip_final_snapshot: false, lifecycle: { prevent_destroy: true } });
    expect(keyOf(env).lifecycle).toEqual({ prevent_destroy: true });
  });
});
