// Builds the package as installers use it: dist/ with JavaScript and type declarations of src/ and
// stacks/ (the entry points of package.json's "exports"), and the SQL migrations beside the code that
// reads them. Run by `npm run build`, and by npm itself (`prepare`) on `npm ci` and on an install from git.
// `node scripts/build.mjs <folder>` writes <folder>/dist instead (the package test builds a copy).

import { execFileSync } from "node:child_process";
import { cpSync, rmSync } from "node:fs";
import { createRequire } from "node:module";
import { dirname, join, resolve } from "node:path";
import { fileURLToPath } from "node:url";

const root = join(dirname(fileURLToPath(import.meta.url)), "..");
const dist = join(resolve(process.argv[2] ?? root), "dist");
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");

// A clean build: a file deleted from src/ must not live on in dist/.
rmSync(dist, { recursive: true, force: true });
execFileSync(process.execPath, [tsc, "-p", join(root, "tsconfig.build.json"), "--outDir", dist], { stdio: "inherit" });
// src/client/migrate.ts reads the migrations from the folder beside it.
cpSync(join(root, "src/client/migrations"), join(dist, "src/client/migrations"), { recursive: true });
