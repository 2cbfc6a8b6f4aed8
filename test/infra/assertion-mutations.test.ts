// Mutation checks: build the dev stack with one guarded property removed and show that the assertion
// guarding it throws, while the others still pass (so it throws for that property, not by accident).
// cdk-nag is not attached here: it would refuse several of these stacks itself (a second line of defence).
import assert from "node:assert/strict";
import * as fs from "node:fs";
import * as os from "node:os";
import * as path from "node:path";
import { after, describe, test } from "node:test";
import { App } from "aws-cdk-lib";
import { Template } from "aws-cdk-lib/assertions";
import type * as events from "aws-cdk-lib/aws-events";
import type * as lambda from "aws-cdk-lib/aws-lambda";
import type * as s3 from "aws-cdk-lib/aws-s3";
import type * as secretsmanager from "aws-cdk-lib/aws-secretsmanager";
import type * as sqs from "aws-cdk-lib/aws-sqs";
import { CoinsegStack } from "../../infra/lib/coinseg-stack.ts";
import { environments } from "../../infra/lib/config/environments.ts";
import { LIFECYCLE_RULE_IDS } from "../../infra/lib/constructs/object-bucket.ts";
import {
  assertBucketEncryptedWithKms, assertDicomUidSecretForApiOnly, assertEnvironmentMatchesConfig, assertOnlyRelaysSendTasks, assertTaskQueueDeadLetters,
  assertRegistryCleanupScheduled, assertUploadsExpire, environmentProblems,
} from "./support/stack-assertions.ts";

// See support/synthesized.ts: the CloudFormation schema linter costs ~20 s per process.
process.env["CDK_VALIDATION"] = "false";
process.env["AWS_EC2_METADATA_DISABLED"] = "true";
const outdirs: string[] = [];
after(() => {
  for (const d of outdirs) fs.rmSync(d, { recursive: true, force: true });
});

/** The dev stack with `mutate` applied before synthesis (~2 s: the image assets hash the repository). */
function buildDev(mutate: (stack: CoinsegStack) => void): { stack: CoinsegStack; template: Template } {
  const outdir = fs.mkdtempSync(path.join(os.tmpdir(), "coinseg-mutant-"));
  outdirs.push(outdir);
  const stack = new CoinsegStack(new App({ outdir }), "coinseg-dev", { config: environments["dev"]!, env: { account: "123456789012", region: "eu-west-1" } });
  mutate(stack);
  return { stack, template: Template.fromStack(stack) };
}

type Check = (t: Template, s: CoinsegStack) => void;
const checks: Record<string, Check> = {
  deadLetters: (t, s) => assertTaskQueueDeadLetters(t, s, 3),
  bucketEncryption: (t, s) => assertBucketEncryptedWithKms(t, s),
  sendScope: (t, s) => assertOnlyRelaysSendTasks(t, s),
  environment: (t) => assertEnvironmentMatchesConfig(t),
  dicomUidSecret: (t, s) => assertDicomUidSecretForApiOnly(t, s),
  uploadExpiry: (t, s) => assertUploadsExpire(t, s, environments["dev"]!.bucket),
  registryCleanup: (t, s) => assertRegistryCleanupScheduled(t, s),
};

/** Index of the object bucket's lifecycle rule `id` in the synthesised rules (for property overrides). */
function lifecycleRuleIndex(stack: CoinsegStack, id: string): number {
  const rules = (stack.resolve((stack.objects.bucket.node.defaultChild as s3.CfnBucket).lifecycleConfiguration) as { rules: { id?: string }[] }).rules;
  const index = rules.findIndex((r) => r.id === id);
  assert.ok(index >= 0, `lifecycle rule ${id}`);
  return index;
}

/** Asserts that exactly `failing` throws (matching `message`) on the mutant and every other check passes. */
function expectOnly(mutant: { stack: CoinsegStack; template: Template }, failing: keyof typeof checks, message: RegExp): void {
  assert.throws(() => checks[failing]!(mutant.template, mutant.stack), message);
  for (const [name, check] of Object.entries(checks)) if (name !== failing) assert.doesNotThrow(() => check(mutant.template, mutant.stack), name);
}

describe("assertion mutations", () => {
  test("should pass every check on the unmodified dev stack", () => {
    const plain = buildDev(() => {});
    for (const check of Object.values(checks)) check(plain.template, plain.stack);
  });

  test("should fail the dead-letter check when the task queue's redrive policy is removed", () => {
    const mutant = buildDev((stack) => (stack.tasks.queue.node.defaultChild as sqs.CfnQueue).addPropertyDeletionOverride("RedrivePolicy"));
    expectOnly(mutant, "deadLetters", /task queue redrive policy/);
  });

  test("should fail the encryption check when the bucket's default encryption is removed", () => {
    const mutant = buildDev((stack) => (stack.objects.bucket.node.defaultChild as s3.CfnBucket).addPropertyDeletionOverride("BucketEncryption"));
    expectOnly(mutant, "bucketEncryption", /bucket default encryption/);
  });

  test("should fail the send-scope check when the workers are granted sqs:SendMessage", () => {
    const mutant = buildDev((stack) => stack.tasks.queue.grantSendMessages(stack.workers.taskDefinition.taskRole));
    expectOnly(mutant, "sendScope", /roles allowed sqs:SendMessage/);
  });

  test("should fail the upload expiry check when the uploads rule's expiration is removed", () => {
    const mutant = buildDev((stack) => (stack.objects.bucket.node.defaultChild as s3.CfnBucket)
      .addPropertyDeletionOverride(`LifecycleConfiguration.Rules.${lifecycleRuleIndex(stack, LIFECYCLE_RULE_IDS.uploads)}.ExpirationInDays`));
    expectOnly(mutant, "uploadExpiry", /upload expiry rule/);
  });

  test("should fail the upload expiry check when the uploads rule filters on a prefix instead of the upload tag", () => {
    const mutant = buildDev((stack) => {
      const rule = `LifecycleConfiguration.Rules.${lifecycleRuleIndex(stack, LIFECYCLE_RULE_IDS.uploads)}`;
      const bucket = stack.objects.bucket.node.defaultChild as s3.CfnBucket;
      bucket.addPropertyDeletionOverride(`${rule}.TagFilters`);
      bucket.addPropertyOverride(`${rule}.Prefix`, "uploads/");
    });
    expectOnly(mutant, "uploadExpiry", /upload expiry rule/);
  });

  test("should fail the registry clean-up check when the schedule's event input is removed", () => {
    const mutant = buildDev((stack) => (stack.websocket.registryCleanup.node.defaultChild as events.CfnRule).addPropertyDeletionOverride("Targets.0.Input"));
    expectOnly(mutant, "registryCleanup", /registry clean-up schedule/);
  });

  test("should fail the DICOM UID secret check when the WebSocket Lambda may read the key too", () => {
    const mutant = buildDev((stack) => stack.dicomUidSecret.grantRead(stack.websocket.handler));
    expectOnly(mutant, "dicomUidSecret", /roles allowed to read the DICOM UID secret/);
  });

  test("should fail the DICOM UID secret check when the key's value is written into the template instead of generated", () => {
    const mutant = buildDev((stack) => {
      const secret = stack.dicomUidSecret.node.defaultChild as secretsmanager.CfnSecret;
      secret.addPropertyDeletionOverride("GenerateSecretString");
      secret.addPropertyOverride("SecretString", "k".repeat(64));
    });
    expectOnly(mutant, "dicomUidSecret", /DICOM UID secret value in the template/);
  });

  test("should report an unknown, an unread and a missing variable when the stack's environment drifts from the config schema", () => {
    const mutant = buildDev((stack) => {
      const worker = stack.workers.taskDefinition.defaultContainer!;
      worker.addEnvironment("SQS_HEARTBEAT_SECONDS", "30");
      worker.addEnvironment("GRAPHQL_MAX_DEPTH", "12");
      (stack.outboxRelay.handler.node.defaultChild as lambda.CfnFunction).addPropertyDeletionOverride("Environment.Variables.SQS_QUEUE_URL");
    });
    const problems = environmentProblems(mutant.template);
    assert.equal(problems.length, 3, problems.join("\n"));
    assert.match(problems.join("\n"), /CpuWorkersTask\w*\/worker \(worker\): SQS_HEARTBEAT_SECONDS is not in app\/config\/env-schema\.ts/);
    assert.match(problems.join("\n"), /\(worker\): GRAPHQL_MAX_DEPTH is set but worker does not parse it/);
    assert.match(problems.join("\n"), /\(lambda-outbox-relay\.handler\): requires SQS_QUEUE_URL, which the stack does not set/);
    expectOnly(mutant, "environment", /SQS_HEARTBEAT_SECONDS/);
  });
});
