// Jest: TypeScript through SWC (no type checking here: `npm run typecheck` does that once, fast).
/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: "node",
  roots: ["<rootDir>/test"],
  testMatch: ["**/*.test.ts"],
  transform: {
    "^.+\\.ts$": ["@swc/jest", { jsc: { parser: { syntax: "typescript" }, target: "es2022" }, module: { type: "commonjs" } }],
  },
  setupFilesAfterEnv: ["<rootDir>/test/support/setup.ts"],
  // Synthesis is CPU-bound; two workers match the two cores this project is built on.
  maxWorkers: 2,
  // Many tests spawn `node --import tsx` or start PostgreSQL, which takes 4–5 s on a loaded machine:
  // never Jest's 5 s default. Tests that wait on more set their own, longer timeout.
  testTimeout: 60_000,
};
