// The package as an installer gets it: `npm run build` (also npm's `prepare`) writes dist/, and the
// entry points of package.json's "exports" load from it under plain Node, with no TypeScript loader
// (what each loads: test/client/entry-point.test.ts); `npm pack` ships the build and the README, not the sources.

import { execFile } from "node:child_process";
import { copyFileSync, existsSync, mkdtempSync, readdirSync, rmSync, symlinkSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { promisify } from "node:util";
import { ROOT } from "./support/local-database";

const run = promisify(execFile);
const ENTRY_POINTS = ["pulse-analytics-postgres", "pulse-analytics-postgres/stacks", "pulse-analytics-postgres/client"];

/** A copy of the package as npm installs it: package.json, the README, a fresh dist/ and (linked) its dependencies. */
let installed: string;

beforeAll(async () => {
  installed = join(mkdtempSync(join(tmpdir(), "pulse-package-")), "pulse-analytics-postgres");
  await run(process.execPath, [join(ROOT, "scripts", "build.mjs"), installed], { cwd: ROOT });
  for (const file of ["package.json", "README.md"]) copyFileSync(join(ROOT, file), join(installed, file));
  symlinkSync(join(ROOT, "node_modules"), join(installed, "node_modules"));
}, 120_000);

afterAll(() => {
  rmSync(join(installed, ".."), { recursive: true, force: true });
});

/** Runs `script` with plain Node (no tsx) in the installed copy and parses the JSON it prints. */
async function inPlainNode(script: string, conditions: string[] = []): Promise<any> {
  const { stdout } = await run(process.execPath, [...conditions.map((c) => `--conditions=${c}`), "-e", script], { cwd: installed });
  return JSON.parse(stdout);
}

describe("the built package", () => {
  it("loads every entry point under plain Node from dist/, exporting the same names as the sources", async () => {
    const script = `console.log(JSON.stringify(${JSON.stringify(ENTRY_POINTS)}.map((entry) => [entry, require.resolve(entry), Object.keys(require(entry)).sort()])))`;
    const built: Array<[string, string, string[]]> = await inPlainNode(script);
    for (const [entry, file] of built) expect({ entry, file }).toEqual({ entry, file: expect.stringMatching(/\/dist\/.+\.js$/) });
    const { stdout } = await run(process.execPath, ["--conditions=pulse-source", "--import", "tsx", "-e", script], { cwd: ROOT });
    const fromSources: Array<[string, string, string[]]> = JSON.parse(stdout);
    expect(built.map(([entry, , names]) => [entry, names])).toEqual(fromSources.map(([entry, , names]) => [entry, names]));
  }, 60_000);

  it("carries the migrations beside the code that reads them", async () => {
    const dir: string = await inPlainNode(
      `const { join } = require("node:path"); console.log(JSON.stringify(require(join(require.resolve("pulse-analytics-postgres/client"), "..", "migrate.js")).MIGRATIONS_DIR))`,
    );
    expect(dir.startsWith(join(installed, "dist"))).toBe(true);
    expect(readdirSync(dir).sort()).toEqual(readdirSync(join(ROOT, "src", "client", "migrations")).sort());
  }, 60_000);

  it("declares its types for TypeScript users (a .d.ts beside every entry point)", () => {
    const declarations = ["dist/src/index.d.ts", "dist/stacks/index.d.ts", "dist/src/client/index.d.ts"];
    expect(declarations.filter((file) => !existsSync(join(installed, file)))).toEqual([]);
  });
});

describe("npm pack", () => {
  it("ships dist/, the README and package.json: no TypeScript source, test or local file", async () => {
    const { stdout } = await run("npm", ["pack", "--dry-run", "--json", "--ignore-scripts"], { cwd: installed });
    const files: string[] = JSON.parse(stdout)[0].files.map((f: { path: string }) => f.path);
    expect(files.filter((f) => !f.startsWith("dist/")).sort()).toEqual(["README.md", "package.json"]);
    expect(files).toEqual(
      expect.arrayContaining([
        "dist/src/client/index.js",
        "dist/src/client/index.d.ts",
        "dist/src/client/migrations/1764028800000_session-events.sql",
      ]),
    );
    expect(files.filter((f) => f.endsWith(".ts") && !f.endsWith(".d.ts"))).toEqual([]);
  }, 60_000);
});
