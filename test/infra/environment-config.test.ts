// The per-environment parameter schema rejects configurations that would break the design.
import assert from "node:assert/strict";
import { test } from "node:test";
import { parseEnvironmentConfig } from "../../infra/lib/config/environment-config.ts";
import { environments } from "../../infra/lib/config/environments.ts";

const valid = () => structuredClone(environments["dev"]!) as unknown as Record<string, any>;

test("should accept every shipped environment when parsed", () => {
  for (const [name, config] of Object.entries(environments)) assert.equal(parseEnvironmentConfig(config).name, name);
});

test("should reject a visibility timeout under 30 s (the worker heartbeats every half of it)", () => {
  const c = valid();
  c["queue"]["visibilityTimeoutSeconds"] = 20;
  assert.throws(() => parseEnvironmentConfig(c), /queue\.visibilityTimeoutSeconds/);
});

test("should reject a separate worker heartbeat setting, which the worker would never read", () => {
  const c = valid();
  c["queue"]["workerHeartbeatSeconds"] = 30;
  assert.throws(() => parseEnvironmentConfig(c), /queue: Unrecognized key: "workerHeartbeatSeconds"/);
});

test("should reject a dead-letter threshold other than 3 receives", () => {
  const c = valid();
  c["queue"]["maxReceiveCount"] = 5;
  assert.throws(() => parseEnvironmentConfig(c), /queue\.maxReceiveCount/);
});

test("should reject an upload expiry or a multipart abort under one day, which S3 lifecycle rules cannot express", () => {
  const c = valid();
  c["bucket"]["uploadExpirationDays"] = 0;
  c["bucket"]["incompleteMultipartUploadDays"] = 0.5;
  assert.throws(() => parseEnvironmentConfig(c), (e: Error) => /bucket\.uploadExpirationDays/.test(e.message) && /bucket\.incompleteMultipartUploadDays/.test(e.message));
});

test("should reject availability zones outside the region", () => {
  const c = valid();
  c["availabilityZones"] = ["eu-west-1a", "us-east-1b"];
  assert.throws(() => parseEnvironmentConfig(c), /us-east-1b is not in eu-west-1/);
});

test("should reject a GPU environment with a non-GPU instance type", () => {
  const c = structuredClone(environments["prod"]!) as unknown as Record<string, any>;
  c["workers"]["instanceType"] = "m7i.xlarge";
  assert.throws(() => parseEnvironmentConfig(c), /workers\.instanceType: an NVIDIA GPU instance type/);
});

test("should list every problem at once when several fields are wrong", () => {
  const c = valid();
  c["api"]["timeoutSeconds"] = 60;
  c["network"]["cidr"] = "10.0.0.0/8";
  assert.throws(() => parseEnvironmentConfig(c), (e: Error) => /api\.timeoutSeconds/.test(e.message) && /network\.cidr/.test(e.message));
});

test("should synthesise only the environments named by the env context, and reject unknown names", async () => {
  const { createCoinsegApp } = await import("../../infra/lib/coinseg-app.ts");
  process.env["CDK_CONTEXT_JSON"] = JSON.stringify({ env: "dev" });
  try {
    const { stacks } = createCoinsegApp({ environments: Object.values(environments) });
    assert.deepEqual(stacks.map((s) => s.stackName), ["coinseg-dev"]);
    process.env["CDK_CONTEXT_JSON"] = JSON.stringify({ env: "dev,staging" });
    assert.throws(() => createCoinsegApp({ environments: Object.values(environments) }), /unknown environment\(s\) staging; known: dev, prod/);
  } finally {
    delete process.env["CDK_CONTEXT_JSON"];
  }
});
