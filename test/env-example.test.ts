// .env.example documents every environment variable the code reads, each with a comment above it.

import { readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { ROOT } from "./support/local-database";

function sourceFiles(dir: string): string[] {
  return readdirSync(join(ROOT, dir), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && /\.(ts|mjs|sh|yml)$/.test(entry.name))
    .map((entry) => join(entry.parentPath, entry.name));
}

describe(".env.example", () => {
  const example = readFileSync(join(ROOT, ".env.example"), "utf8");
  const read = new Set<string>();
  for (const file of [...sourceFiles("src"), ...sourceFiles("stacks"), join(ROOT, "main.ts"), join(ROOT, "docker-compose.yml")]) {
    const text = readFileSync(file, "utf8");
    for (const match of text.matchAll(/\benv\.(PULSE_\w+)|\$\{(PULSE_\w+)/g)) read.add(match[1] ?? match[2]);
  }

  it("finds the variables the code reads", () => {
    expect([...read]).toEqual(expect.arrayContaining(["PULSE_ANALYTICS_MIGRATION_DATABASE_URL", "PULSE_TF_STATE_BUCKET", "PULSE_LOCAL_PG_PORT"]));
  });

  it.each([...read].sort())("lists %s with a comment", (name) => {
    const lines = example.split("\n");
    const at = lines.findIndex((line) => new RegExp(`^#? ?${name}=`).test(line));
    expect({ name, listed: at >= 0 }).toEqual({ name, listed: true });
    expect(
      lines
        .slice(0, at)
        .reverse()
        .find((line) => line.trim() !== "" && !new RegExp(`^#? ?PULSE_\\w+=`).test(line)),
    ).toMatch(/^#/);
  });

  it("names the backend's own variable, PULSE_ANALYTICS_DATABASE_URL", () => {
    expect(example).toMatch(/^PULSE_ANALYTICS_DATABASE_URL=$/m);
  });
});
