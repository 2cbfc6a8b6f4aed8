import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { envSchema } from "../../app/config/env-schema.ts";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";

const readme = readFileSync(new URL("../../README.md", import.meta.url), "utf8");

describe("README", () => {
  it("should document every environment variable the config schema reads", () => {
    const missing = Object.keys(envSchema.shape).filter((name) => !readme.includes(`| \`${name}\` |`));
    assert.deepEqual(missing, []);
  });

  it("should list every error code in its error table", () => {
    const missing = Object.values(ERROR_CODES).filter((code) => !readme.includes(`| \`${code}\` |`));
    assert.deepEqual(missing, []);
  });

  it("should start with a single command that installs and starts the embedded server", () => {
    const firstBlock = /```bash\n([^`]+)```/.exec(readme)?.[1]?.trim();
    assert.equal(firstBlock, "npm ci && npm start");
  });
});
