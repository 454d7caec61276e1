// Which folder may import which: dependencies point one way. The stacks build on the constructs, the
// constructs on the rules and the role model; nothing in src/ reaches back into stacks/, the rules
// know no construct, and the backend's code (src/client, src/analytics) knows no construct, nor the
// local database's or the deployed environment's tools.

import { readdirSync, readFileSync } from "node:fs";
import { dirname, join, relative, resolve } from "node:path";
import { ROOT } from "./support/local-database";

/** Every relative import of every .ts file under `folder`, as [importing file, imported file], repository-relative. */
function importsUnder(folder: string): Array<[string, string]> {
  return readdirSync(join(ROOT, folder), { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile() && entry.name.endsWith(".ts"))
    .flatMap((entry) => {
      const file = join(entry.parentPath, entry.name);
      const source = readFileSync(file, "utf8");
      return [...source.matchAll(/^(?:import|export)[^;]*?from "(\.[^"]+)";/gms)].map((match): [string, string] => [
        relative(ROOT, file),
        relative(ROOT, resolve(dirname(file), match[1])),
      ]);
    });
}

const violations = (folder: string, forbidden: RegExp) => importsUnder(folder).filter(([, target]) => forbidden.test(target));

describe("the dependencies between folders", () => {
  it("never go from src/ to stacks/", () => {
    expect(violations("src", /^stacks\//)).toEqual([]);
  });

  it("never go from the rules (src/config) to the constructs", () => {
    expect(violations("src/config", /^src\/constructs\//)).toEqual([]);
  });

  it("never go from the backend's code (src/client, src/analytics) to the constructs, the local database or the deployed tools", () => {
    const forbidden = /^src\/(constructs|local|deployed|cli)\//;
    expect([...violations("src/client", forbidden), ...violations("src/analytics", forbidden)]).toEqual([]);
  });

  it("never go from the role model (src/roles) to anything but the rules and support", () => {
    expect(violations("src/roles", /^src\/(constructs|client|analytics|local|deployed|cli)\//)).toEqual([]);
  });

  it("are read from the real import statements (the check is real)", () => {
    expect(importsUnder("stacks").some(([, target]) => target.startsWith("src/constructs/"))).toBe(true);
  });
});
