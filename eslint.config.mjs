// ESLint, type-aware (typescript-eslint's recommended rules that use the type checker), over the code
// and the tests. Formatting is Prettier's job (.prettierrc.json), not a lint rule.

import js from "@eslint/js";
import tseslint from "typescript-eslint";

export default tseslint.config(
  { ignores: ["cdktf.out/**", "dist/**", "node_modules/**", "coverage/**", "bench/results/**", "**/*.mjs", "jest.config.js"] },
  js.configs.recommended,
  ...tseslint.configs.recommendedTypeChecked,
  {
    languageOptions: {
      parserOptions: { projectService: true, tsconfigRootDir: import.meta.dirname },
    },
    rules: {
      // `_`-prefixed: deliberately unused (a destructured field left out, a parameter kept for its position).
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
    },
  },
  {
    // The tests read synthesized Terraform JSON, IAM policies and query rows, untyped by nature: they
    // index into `any` freely, and a wrong path fails the assertion. Every other rule applies.
    files: ["test/**/*.ts"],
    rules: {
      "@typescript-eslint/no-explicit-any": "off",
      "@typescript-eslint/no-unsafe-assignment": "off",
      "@typescript-eslint/no-unsafe-member-access": "off",
      "@typescript-eslint/no-unsafe-return": "off",
      "@typescript-eslint/no-unsafe-argument": "off",
      "@typescript-eslint/no-unsafe-call": "off",
      // A test's stand-in for real work is async without awaiting anything.
      "@typescript-eslint/require-await": "off",
    },
  },
);
