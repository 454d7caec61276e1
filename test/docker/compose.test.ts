// docker-compose.yml, read as Docker would (no Docker engine runs here): PostgreSQL at the local
// major, a healthcheck, a named volume, the bootstrap init script with every password it needs, and
// the commented backend example.

import { existsSync, readFileSync, statSync } from "node:fs";
import { join } from "node:path";
import { parse } from "yaml";
import { LOCAL_POSTGRES_MAJOR } from "../../src/db/local-postgres";
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

  it("is healthy only once the analytics database answers", () => {
    expect(postgres.healthcheck.test.join(" ")).toContain("--dbname pulse_analytics");
    expect(postgres.healthcheck).toMatchObject({ interval: expect.any(String), retries: expect.any(Number) });
  });

  it("mounts the init script and the bootstrap SQL it applies, and both exist", () => {
    expect(postgres.volumes).toEqual(
      expect.arrayContaining(["./docker/initdb:/docker-entrypoint-initdb.d:ro", "./docker/bootstrap.sql:/pulse/bootstrap.sql:ro"]),
    );
    expect(statSync(join(ROOT, "docker", "initdb", "10-pulse-analytics.sh")).mode & 0o111).not.toBe(0);
    expect(existsSync(join(ROOT, "docker", "bootstrap.sql"))).toBe(true);
  });

  it("passes every password the bootstrap SQL asks for, each required from .env", () => {
    const script = readFileSync(join(ROOT, "docker", "initdb", "10-pulse-analytics.sh"), "utf8");
    const sqlVariables = [...new Set(readFileSync(join(ROOT, "docker", "bootstrap.sql"), "utf8").match(/:'(\w+)'/g))].map((v) => v.slice(2, -1));
    expect(sqlVariables.sort()).toEqual(["admin_password", "app_password", "migrator_password", "readonly_password"]);
    for (const variable of sqlVariables) {
      const envName = script.match(new RegExp(`--set ${variable}="\\$(\\w+)"`))?.[1];
      expect({ variable, envName }).toEqual({ variable, envName: expect.stringMatching(/^PULSE_LOCAL_\w+_PASSWORD$/) });
      expect(postgres.environment[envName!]).toMatch(new RegExp(`^\\$\\{${envName}:\\?`));
    }
    expect(postgres.environment.POSTGRES_PASSWORD).toMatch(/^\$\{PULSE_LOCAL_SUPERUSER_PASSWORD:\?/);
  });

  it("publishes the port on loopback only", () => {
    expect(postgres.ports).toEqual(["127.0.0.1:${PULSE_LOCAL_PG_PORT:-54329}:5432"]);
  });

  it("shows, commented out, a backend service that receives PULSE_ANALYTICS_DATABASE_URL", () => {
    expect(compose.services.backend).toBeUndefined();
    expect(text).toMatch(/^ {2}# backend:$/m);
    expect(text).toMatch(/^ {2}# {5}PULSE_ANALYTICS_DATABASE_URL: postgresql:\/\/pulse_analytics_app:\$\{PULSE_LOCAL_APP_PASSWORD\}@postgres:5432\/pulse_analytics$/m);
  });
});
