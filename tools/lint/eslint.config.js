// ESLint flat config for coinseg (run from the repository root: `npm run lint`).
// Besides typescript-eslint's recommended rules it enforces the dependency direction of STYLE.md:
// resolvers → core ← adapters; imaging imports nothing of ours; only app/ wires adapters.
import js from "@eslint/js";
import tseslint from "typescript-eslint";

const ours = (dir) => ({ regex: `(^|/)${dir}/`, message: `this layer must not import ${dir}/ (see STYLE.md "Layout and direction")` });
const infraPackages = {
  group: ["@prisma/*", "pg", "@electric-sql/*", "pglite-prisma-adapter", "@aws-sdk/*", "express", "ws", "graphql-ws", "@apollo/*", "onnxruntime-node", "pino"],
  message: "core/ owns ports; infrastructure packages belong in adapters/ or app/",
};

export default tseslint.config(
  { ignores: ["node_modules/**", "generated/**", "cdk.out/**", "**/cdk.out/**", "tools/**", "training/**", "data/**", "runs/**", "bench/results/**", "**/*.js", "**/*.cjs", "**/*.mjs"] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  {
    files: ["**/*.ts"],
    languageOptions: { ecmaVersion: 2022, sourceType: "module" },
    rules: {
      "@typescript-eslint/no-unused-vars": ["error", { argsIgnorePattern: "^_", varsIgnorePattern: "^_", destructuredArrayIgnorePattern: "^_" }],
      "@typescript-eslint/no-explicit-any": "off",
      "prefer-const": "warn",
      "no-useless-assignment": "warn",
      "@typescript-eslint/no-unsafe-function-type": "off",
      "no-restricted-syntax": ["error", { selector: "MemberExpression[object.name='process'][property.name='env']", message: "read configuration in app/config only (STYLE.md)" }],
    },
  },
  // process.env is parsed once, in app/ entry points; tests and scripts may read their own settings.
  { files: ["app/**/*.ts", "test/**/*.ts", "bench/**/*.ts", "scripts/**/*.ts", "infra/**/*.ts", "training/**/*.ts"], rules: { "no-restricted-syntax": "off" } },
  {
    files: ["core/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [ours("adapters"), ours("app"), ours("resolvers"), ours("workers"), ours("generated"), infraPackages] }] },
  },
  {
    files: ["resolvers/**/*.ts"],
    rules: { "no-restricted-imports": ["error", { patterns: [ours("adapters"), ours("app"), ours("workers"), { group: ["@prisma/*", "pg", "@aws-sdk/*"], message: "resolvers call core services only" }] }] },
  },
  { files: ["adapters/**/*.ts"], rules: { "no-restricted-imports": ["error", { patterns: [ours("app"), ours("resolvers")] }] } },
  { files: ["workers/**/*.ts"], rules: { "no-restricted-imports": ["error", { patterns: [ours("app"), ours("resolvers")] }] } },
  {
    files: ["imaging/**/*.ts"],
    rules: {
      "no-restricted-imports": [
        "error",
        {
          patterns: [
            ours("core"), ours("adapters"), ours("app"), ours("resolvers"), ours("workers"), ours("generated"),
            // Pure math on buffers: no ONNX, no database, no cloud, no file system (callers pass bytes in).
            { group: ["onnxruntime-node", "onnxruntime-*", "pg", "pg-*", "@prisma/*", "@aws-sdk/*", "node:fs", "node:fs/*", "fs", "fs/*"], message: "imaging/ is pure TypeScript on buffers: no ONNX Runtime, database, AWS or file system (STYLE.md)" },
          ],
        },
      ],
    },
  },
);
