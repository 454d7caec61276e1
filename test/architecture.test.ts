// Which folder may import which: dependencies point one way. The stacks build on the constructs, the
// constructs on the rules and the role model; nothing in src/ reaches back into stacks/, the rules
// know no construct, and the backend's code (the client, src/db, src/analytics) knows no construct.

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

  it("never go from the backend's code (src/db, src/analytics, src/client.ts) to the constructs or cdktf", () => {
    expect([...violations("src/db", /^src\/constructs\//), ...violations("src/analytics", /^src\/constructs\//)]).toEqual([]);
    const client = readFileSync(join(ROOT, "src", "client.ts"), "utf8");
    expect(client).not.toMatch(/from "\.\/constructs|from "cdktf"/);
  });

  it("are read from the real import statements (the check is real)", () => {
    expect(importsUnder("stacks").some(([, target]) => target.startsWith("src/constructs/"))).toBe(true);
  });
});
