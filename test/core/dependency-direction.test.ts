// The lint configuration enforces STYLE.md's dependency direction; these tests prove it bites.
import { before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { fileURLToPath } from "node:url";

const root = fileURLToPath(new URL("../..", import.meta.url));
const eslintEntry = fileURLToPath(new URL("../../tools/lint/node_modules/eslint/lib/api.js", import.meta.url));
const configFile = fileURLToPath(new URL("../../tools/lint/eslint.config.js", import.meta.url));

type Lint = (code: string, file: string) => Promise<string[]>;

describe("dependency direction lint rules", () => {
  let lint: Lint;
  before(async () => {
    assert.ok(existsSync(eslintEntry), "the lint toolchain is not installed: run `npm run lint` (it installs tools/lint) first");
    const { ESLint } = (await import(eslintEntry)) as { ESLint: new (o: object) => { lintText(c: string, o: { filePath: string }): Promise<{ messages: { ruleId: string | null }[] }[]> } };
    const eslint = new ESLint({ cwd: root, overrideConfigFile: configFile });
    lint = async (code, file) => (await eslint.lintText(code, { filePath: `${root}/${file}` }))[0]!.messages.map((m) => String(m.ruleId));
  });

  it("should reject an import of adapters/ when it appears in core/", async () => {
    assert.deepEqual(await lint('import { PrismaStudyRepository } from "../adapters/prisma/prisma-study-repository.ts";\nexport const x = PrismaStudyRepository;\n', "core/services/x.ts"), ["no-restricted-imports"]);
  });

  it("should reject Prisma when it is imported by a resolver", async () => {
    assert.deepEqual(await lint('import { PrismaClient } from "@prisma/client";\nexport const x = PrismaClient;\n', "resolvers/x.ts"), ["no-restricted-imports"]);
  });

  it("should reject an import of core/ when it appears in imaging/", async () => {
    assert.deepEqual(await lint('import { isUuid } from "../core/domain/is-uuid.ts";\nexport const x = isUuid;\n', "imaging/x.ts"), ["no-restricted-imports"]);
  });

  for (const [what, code] of [
    ["onnxruntime-node", 'import * as ort from "onnxruntime-node";\nexport const x = ort;\n'],
    ["pg", 'import pg from "pg";\nexport const x = pg;\n'],
    ["@prisma/client", 'import { PrismaClient } from "@prisma/client";\nexport const x = PrismaClient;\n'],
    ["@prisma/adapter-pg", 'import { PrismaPg } from "@prisma/adapter-pg";\nexport const x = PrismaPg;\n'],
    ["@aws-sdk/client-s3", 'import { S3Client } from "@aws-sdk/client-s3";\nexport const x = S3Client;\n'],
    ["node:fs", 'import { readFileSync } from "node:fs";\nexport const x = readFileSync;\n'],
    ["node:fs/promises", 'import { readFile } from "node:fs/promises";\nexport const x = readFile;\n'],
    ["fs", 'import fs from "fs";\nexport const x = fs;\n'],
  ] as const) {
    it(`should reject ${what} when it is imported in imaging/`, async () => {
      assert.deepEqual(await lint(code, "imaging/mask/x.ts"), ["no-restricted-imports"]);
    });
  }

  it("should accept node:zlib and node:crypto when imaging/ imports them", async () => {
    assert.deepEqual(await lint('import { gzipSync } from "node:zlib";\nimport { createHash } from "node:crypto";\nexport const x = [gzipSync, createHash];\n', "imaging/mask/x.ts"), []);
  });

  it("should reject process.env when it is read outside app/", async () => {
    assert.deepEqual(await lint("export const x = process.env.PORT;\n", "adapters/x.ts"), ["no-restricted-syntax"]);
  });

  it("should accept imports that point inward when adapters use core", async () => {
    assert.deepEqual(await lint('import { isUuid } from "../core/domain/is-uuid.ts";\nexport const x = isUuid;\n', "adapters/x.ts"), []);
  });
});
