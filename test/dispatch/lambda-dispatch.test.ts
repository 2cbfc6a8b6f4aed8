// Serverless dispatch: the API Lambda sends a new job's tasks to SQS before requestSegmentation
// answers, and the scheduled relay Lambda sends what was left behind. Real Postgres, moto's SQS.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { DeleteMessageCommand, ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import type { Context } from "aws-lambda";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { createLambdaHandler } from "../../app/lambda/create-lambda-handler.ts";
import { createOutboxRelayHandler } from "../../app/lambda/create-outbox-relay-handler.ts";
import { JobTaskDispatcher } from "../../app/lambda/dispatch-stored-tasks.ts";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { httpApiEvent } from "../api/support/http-api-event.ts";
import { createDispatchHarness, motoEndpoint, TEST_AWS, type DispatchHarness } from "./support/dispatch-harness.ts";

describe("serverless dispatch (API Lambda + scheduled outbox relay)", () => {
  let h: DispatchHarness;
  let apiKey = "";
  let studyId = "";
  const missingQueueUrl = () => `${motoEndpoint()}/123456789012/coinseg-no-such-queue`;
  const lambdaEnv = (queueUrl: string) => ({
    DATABASE_URL: h.db.url, JWT_SECRET: "d".repeat(40), DICOM_UID_SECRET: "u".repeat(40), LOG_LEVEL: "silent", OBJECT_STORE: "local", LOCAL_STORE_DIR: h.storeDir,
    SQS_QUEUE_URL: queueUrl, SQS_ENDPOINT: motoEndpoint(), AWS_REGION: TEST_AWS.region,
    AWS_ACCESS_KEY_ID: TEST_AWS.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_AWS.credentials.secretAccessKey,
  });
  const handlers: { dispose(): Promise<void> }[] = [];
  function apiLambda(queueUrl: string) {
    const handler = createLambdaHandler(lambdaEnv(queueUrl));
    handlers.push(handler);
    return handler;
  }
  function relayLambda(queueUrl: string, minAgeSeconds: number) {
    const handler = createOutboxRelayHandler({ ...lambdaEnv(queueUrl), OUTBOX_RELAY_MIN_AGE_SECONDS: String(minAgeSeconds) });
    handlers.push(handler);
    return handler;
  }

  async function requestSegmentation(handler: ReturnType<typeof createLambdaHandler>): Promise<{ id: string; status: string }> {
    const query = `mutation { requestSegmentation(input: { studyId: "${studyId}", method: COIN, modelKey: "tiny-coin" }) { job { id status } } }`;
    const res = (await handler(httpApiEvent({ query }, { "x-api-key": apiKey }), {} as Context, () => {})) as { statusCode: number; body: string };
    const json = JSON.parse(res.body) as { data?: { requestSegmentation: { job: { id: string; status: string } } }; errors?: unknown };
    assert.equal(res.statusCode, 200, res.body);
    return json.data!.requestSegmentation.job;
  }

  /** Receives (and deletes) every visible task message. */
  async function drainQueue(): Promise<InferenceTaskV1[]> {
    const tasks: InferenceTaskV1[] = [];
    for (;;) {
      const out = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 0 }));
      if (!out.Messages?.length) return tasks;
      for (const m of out.Messages) {
        tasks.push(JSON.parse(m.Body!) as InferenceTaskV1);
        await h.sqs.send(new DeleteMessageCommand({ QueueUrl: h.queues.queueUrl, ReceiptHandle: m.ReceiptHandle! }));
      }
    }
  }

  const outboxOf = (jobId: string) => h.db.prisma.outboxMessage.findMany({ where: { payload: { path: ["jobId"], equals: jobId } }, orderBy: { id: "asc" } });
  const ageOutbox = (seconds: number) => h.db.prisma.$executeRaw`UPDATE "OutboxMessage" SET "createdAt" = now() - make_interval(secs => ${seconds})`;

  before(async () => {
    // Messages received here must not reappear during the test.
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 60 });
    apiKey = (await new AuthService(new PrismaIdentityRepository(h.db.prisma), { verify: async () => null }).issueApiKey(h.principal.organizationId, h.principal.userId, "dispatch")).key;
    // 20 slices = 2 tasks of at most 16 (SLICES_PER_TASK).
    studyId = (await h.createStudy(20)).studyId;
  });
  beforeEach(async () => {
    await h.db.prisma.outboxMessage.deleteMany();
    await drainQueue();
  });
  after(async () => {
    for (const handler of handlers) await handler.dispose();
    await h?.close();
  });

  it("should send a new job's tasks, and only that job's, to SQS before requestSegmentation answers", async () => {
    // Another API instance's job, stored but not sent yet: this Lambda must leave it alone.
    const elsewhere = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const job = await requestSegmentation(apiLambda(h.queues.queueUrl));
    assert.equal(job.status, "QUEUED");
    const rows = await outboxOf(job.id);
    assert.equal(rows.length, 2);
    for (const row of rows) assert.ok(row.dispatchedAt, `outbox row ${row.id} must be marked dispatched when the mutation answers`);
    const sent = await drainQueue();
    assert.deepEqual(sent.map((t) => t.taskId).sort(), rows.map((r) => r.id).sort());
    assert.ok(sent.every((t) => t.jobId === job.id && t.schemaVersion === 1));
    assert.deepEqual(sent.map((t) => t.sliceIds.length).sort((a, b) => a - b), [4, 16]);
    assert.deepEqual((await outboxOf(elsewhere.id)).map((r) => r.dispatchedAt), [null, null]);
  });

  it("should still answer with the QUEUED job, and keep its tasks in the outbox with a failed attempt, when SQS refuses them", async () => {
    const job = await requestSegmentation(apiLambda(missingQueueUrl()));
    assert.equal(job.status, "QUEUED");
    const rows = await outboxOf(job.id);
    assert.deepEqual(rows.map((r) => [r.dispatchedAt, r.attempts]), [[null, 1], [null, 1]]);
    assert.deepEqual(await drainQueue(), []);
  });

  it("should send, from the scheduled relay, only rows older than its minimum age, once", async () => {
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const relay = relayLambda(h.queues.queueUrl, 30);
    // Fresh rows belong to the API Lambda that is sending them.
    assert.deepEqual(await relay(), { dispatched: 0 });
    assert.deepEqual(await drainQueue(), []);
    await ageOutbox(31);
    assert.deepEqual(await relay(), { dispatched: 2 });
    const rows = await outboxOf(job.id);
    assert.ok(rows.every((r) => r.dispatchedAt));
    assert.deepEqual((await drainQueue()).map((t) => t.taskId).sort(), rows.map((r) => r.id).sort());
    assert.deepEqual(await relay(), { dispatched: 0 });
  });

  it("should fail the relay invocation, counting an attempt, when SQS refuses the rows, and send them on a later run", async () => {
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    await ageOutbox(60);
    await assert.rejects(relayLambda(missingQueueUrl(), 30)(), /queue/i);
    assert.deepEqual((await outboxOf(job.id)).map((r) => [r.dispatchedAt, r.attempts]), [[null, 1], [null, 1]]);
    assert.deepEqual(await relayLambda(h.queues.queueUrl, 30)(), { dispatched: 2 });
    assert.equal((await drainQueue()).length, 2);
  });

  it("should stop sending a job's tasks once the inline budget is spent, and leave them to the scheduled relay", async () => {
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const dispatcher = new JobTaskDispatcher(h.db.prisma, new SqsTaskQueue(h.sqs, h.queues.queueUrl), h.logger, 0);
    assert.equal(await dispatcher.dispatch(job), 0);
    assert.deepEqual((await outboxOf(job.id)).map((r) => [r.dispatchedAt, r.attempts]), [[null, 0], [null, 0]]);
    await ageOutbox(60);
    const relay = relayLambda(h.queues.queueUrl, 30);
    // An invocation with less time left than its safety margin sends nothing; one with time, everything.
    assert.deepEqual(await relay(undefined, { getRemainingTimeInMillis: () => 5_000 }), { dispatched: 0 });
    assert.deepEqual(await relay(undefined, { getRemainingTimeInMillis: () => 50_000 }), { dispatched: 2 });
    assert.equal((await drainQueue()).length, 2);
  });
});
