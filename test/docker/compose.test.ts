// docker-compose.yml, read as Docker would (no Docker engine runs here): PostgreSQL at the local
// major, a healthcheck, a named volume, the bootstrap init script with every password it needs, and
// the commented backend example.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { LOCAL_POSTGRES_MAJOR } from "../../src/local/local-postgres";
import { ROOT } from "../support/local-database";

const text = readFileSync(join(ROOT, "docker-compose.yml"), "utf8");
const compose = parse(text);
const postgres = compose.services.postgres;

describe("docker-compose.yml", () => {
  it("runs PostgreSQL at the same major as the cloud default", () => {
    expect(postgres.image).toMatch(new RegExp(`^postgres:${LOCAL_POSTGRES_MAJOR}(-|$)`));
  });

  it("keeps the data in a named volume", () => {
    expect(postgres.volumes).toContain("pulse-analytics-data:/var/lib/postgresql/data");
    expect(Object.keys(compose.volumes)).toEqual(["pulse-analytics-data"]);
  });

  it("checks health over TCP, against the analytics database (run for real in test/roles/role-model-equivalence.test.ts)", () => {
    expect(postgres.healthcheck.test[1]).toContain("--host 127.0.0.1");
    expect(postgres.healthcheck.test[1]).toContain("--dbname pulse_analytics");
    expect(postgres.healthcheck).toMatchObject({ interval: expect.any(String), retries: expect.any(Number) });
  });

  it("mounts the init script and the bootstrap SQL it applies, and both exist", () => {
    expect(postgres.volumes).toEqual(
      expect.arrayContaining(["./docker/initdb:/docker-entrypoint-initdb.d:ro", "./docker/bootstrap.sql:/pulse/bootstrap.sql:ro"]),
    );
    expect(statSync(join(ROOT, "docker", "initdb", "10-pulse-analytics.sh")).mode & 0o111).not.toBe(0);
    expect(existsSync(join(ROOT, "docker", "bootstrap.sql"))).toBe(true);
  });

  it("passes every password the bootstrap SQL reads from the environment, each required from .env, none on a command line", () => {
    const sql = readFileSync(join(ROOT, "docker", "bootstrap.sql"), "utf8");
    const used = [...new Set(sql.match(/:'(\w+)'/g))].map((v) => v.slice(2, -1)).sort();
    const read = Object.fromEntries([...sql.matchAll(/^\\getenv (\w+) (\w+)$/gm)].map(([, variable, envName]) => [variable, envName]));
    expect(used).toEqual(Object.keys(read).sort());
    expect(used).toEqual(["admin_password", "app_password", "migrator_password", "readonly_password"]);
    for (const envName of Object.values(read)) {
      expect(postgres.environment[envName]).toMatch(new RegExp(`^\\$\\{${envName}:\\?`));
    }
    expect(postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{PULSE_LOCAL_SUPERUSER_PASSWORD:\?/);
    const commands = readFileSync(join(ROOT, "docker", "initdb", "10-pulse-analytics.sh"), "utf8")
      .split("\n")
      .filter((line) => !line.startsWith("#"));
    expect(commands.join("\n")).not.toMatch(/PASSWORD/);
  });

  it("publishes the port on loopback only", () => {
    expect(postgres.ports).toEqual(["127.0.0.1:${PULSE_LOCAL_PG_PORT:-54329}:5432"]);
  });

  it("shows, commented out, a backend service that receives PULSE_ANALYTICS_DATABASE_URL", () => {
    expect(compose.services.backend).toBeUndefined();
    expect(text).toMatch(/^ {2}# backend:$/m);
    expect(text).toMatch(
      /^ {2}# {5}PULSE_ANALYTICS_DATABASE_URL: postgresql:\/\/pulse_analytics_app_a:\$\{PULSE_LOCAL_APP_PASSWORD\}@postgres:5432\/pulse_analytics$/m,
    );
  });
});
