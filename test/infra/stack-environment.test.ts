// The stack sets exactly the environment variables the app's config schema parses (no drift between
// infra/ and app/config/env-schema.ts): names, which process reads them, and the required ones.
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as path from "node:path";
import { describe, test } from "node:test";
import { envSchema } from "../../app/config/env-schema.ts";
import { REPOSITORY_ROOT } from "../../infra/lib/constructs/application-images.ts";
import { assertEnvironmentMatchesConfig, BOOTSTRAP_VARIABLES, finalStageEnvNames, processEnvironments, RUNTIME_VARIABLES } from "./support/stack-assertions.ts";
import { synthesized } from "./support/synthesized.ts";

const { dev, prod } = synthesized();

describe("environment variables the stack sets", () => {
  test("should find every app process in both stacks, so the check below is not vacuous", () => {
    for (const { template } of [prod, dev]) {
      const processes = [...new Set(processEnvironments(template).map((p) => p.process))].sort();
      assert.deepEqual(processes, ["lambda-outbox-relay.handler", "lambda-websocket.handler", "lambda.handler", "migrate", "worker"]);
    }
  });

  test("should set on each Lambda and container only variables its process parses, and every one it requires", () => {
    assertEnvironmentMatchesConfig(prod.template);
    assertEnvironmentMatchesConfig(dev.template);
  });

  test("should name each bootstrap variable in the file that consumes it, and none the config schema owns", () => {
    for (const [name, { consumer, produces }] of Object.entries(BOOTSTRAP_VARIABLES)) {
      assert.ok(!(name in envSchema.shape), `${name} is a config variable, not a bootstrap one`);
      assert.ok(fs.readFileSync(path.join(REPOSITORY_ROOT, consumer), "utf8").includes(name), `${consumer} does not read ${name}`);
      if (produces) assert.ok(produces in envSchema.shape, `${name} produces ${produces}, which the config schema must know`);
    }
  });

  test("should bake into the images' final stage only variables the config schema or the runtime knows", () => {
    for (const file of ["infra/docker/worker-gpu.Dockerfile", "infra/docker/worker-cpu.Dockerfile", "infra/docker/api-lambda.Dockerfile"]) {
      const unknown = finalStageEnvNames(file).filter((n) => !(n in envSchema.shape) && !RUNTIME_VARIABLES.has(n));
      assert.deepEqual(unknown, [], file);
    }
    assert.ok(finalStageEnvNames("infra/docker/worker-gpu.Dockerfile").includes("ORT_EXECUTION_PROVIDERS"));
  });
});
