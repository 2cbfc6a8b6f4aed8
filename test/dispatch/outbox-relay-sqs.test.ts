// The transactional outbox's relay against real PostgreSQL and moto's SQS (PROTOCOL.md §2): entries
// SQS refuses are retried alone, relays that race send every row exactly once (claims), a crash
// between send and mark re-sends once the claim's lease has expired (and the worker's idempotency
// absorbs it), and a job whose transaction rolls back leaves nothing to send.
import { afterEach, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { GetQueueAttributesCommand, ReceiveMessageCommand, type SendMessageBatchCommandInput, type SQSClient } from "@aws-sdk/client-sqs";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { PrismaOutbox } from "../../adapters/prisma/prisma-outbox.ts";
import { PrismaScopedOutbox } from "../../adapters/prisma/prisma-scoped-outbox.ts";
import { createSqsClient } from "../../adapters/sqs/sqs-client.ts";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { Outbox } from "../../core/ports/outbox.port.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import type { MessageOutcome } from "../../workers/runtime/worker-runtime.ts";
import { createDispatchHarness, motoEndpoint, pollUntil, TEST_AWS, uuid, type DispatchHarness } from "./support/dispatch-harness.ts";

/**
 * An SQS client whose SendMessageBatch asks for an invalid DelaySeconds (1800 > 900) on the entries
 * named in `rejectOnce`, the first time each is sent: moto then refuses exactly those entries
 * (Failed, InvalidParameterValue) and accepts the rest of the request, as SQS does.
 */
function clientRejectingEntriesOnce(rejectOnce: Set<string>): SQSClient {
  const client = createSqsClient({ ...TEST_AWS, endpoint: motoEndpoint() });
  client.middlewareStack.add(
    (next, context) => async (args) => {
      if (context.commandName === "SendMessageBatchCommand") {
        for (const entry of (args.input as SendMessageBatchCommandInput).Entries ?? []) {
          if (entry.Id && rejectOnce.delete(entry.Id)) entry.DelaySeconds = 1800;
        }
      }
      return next(args);
    },
    { step: "initialize", name: "rejectChosenEntriesOnce" },
  );
  return client;
}

/** The outbox's methods bound to it (to replace one of them in a test). */
function bind(outbox: Outbox): Outbox {
  return {
    claim: (n) => outbox.claim(n), markDispatched: (ids) => outbox.markDispatched(ids),
    markAttemptFailed: (ids) => outbox.markAttemptFailed(ids), release: (ids) => outbox.release(ids),
  };
}

describe("outbox relay on PostgreSQL and SQS", () => {
  let h: DispatchHarness;
  beforeEach(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 5 });
  });
  afterEach(async () => {
    await h?.close();
  });

  /** Visible + in-flight messages of the task queue. */
  async function queueDepth(): Promise<{ visible: number; inFlight: number }> {
    const out = await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: h.queues.queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    return { visible: Number(out.Attributes?.ApproximateNumberOfMessages), inFlight: Number(out.Attributes?.ApproximateNumberOfMessagesNotVisible) };
  }

  /** Receives (and hides for 5 minutes) every message of the queue; returns their task ids. */
  async function receiveAllTaskIds(expected: number): Promise<string[]> {
    const taskIds: string[] = [];
    for (let round = 0; round < 50 && taskIds.length < expected; round++) {
      const out = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }));
      for (const m of out.Messages ?? []) taskIds.push((JSON.parse(m.Body!) as InferenceTaskV1).taskId);
    }
    return taskIds;
  }

  /** Every message sent to the queue, each received once: `expected` of them, and then none is left. */
  async function everyMessageSent(expected: number): Promise<string[]> {
    const taskIds = await receiveAllTaskIds(expected);
    const extra = await h.sqs.send(new ReceiveMessageCommand({ QueueUrl: h.queues.queueUrl, MaxNumberOfMessages: 10, WaitTimeSeconds: 1, VisibilityTimeout: 300 }));
    for (const m of extra.Messages ?? []) taskIds.push((JSON.parse(m.Body!) as InferenceTaskV1).taskId);
    assert.deepEqual(await queueDepth(), { visible: 0, inFlight: taskIds.length });
    return taskIds;
  }

  /** Stores `jobs` jobs of 3 tasks each (a 40-slice study): 3 × jobs outbox rows. */
  async function storeJobs(jobs: number): Promise<void> {
    const { studyId } = await h.createStudy(40);
    for (let j = 0; j < jobs; j++) await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
  }

  async function outboxRows() {
    return h.db.prisma.outboxMessage.findMany({ orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
  }

  it("should mark the accepted entries sent, retry only the refused ones and send none twice when SendMessageBatch partly fails", async () => {
    // 4 jobs × 3 tasks: 12 outbox rows, so one pass makes two SendMessageBatch calls (10 + 2 entries).
    await storeJobs(4);
    const rows = await outboxRows();
    assert.equal(rows.length, 12);
    const refused = new Set([rows[1]!.id, rows[10]!.id]);
    const errors: unknown[] = [];
    const relay = new OutboxRelay(new PrismaOutbox(h.db.prisma), new SqsTaskQueue(clientRejectingEntriesOnce(new Set(refused)), h.queues.queueUrl), (e) => errors.push(e));

    await relay.kick();
    assert.equal(errors.length, 1, "the first refusal is reported");
    assert.match(String((errors[0] as Error).message), /DelaySeconds/);
    const afterFirst = await outboxRows();
    assert.deepEqual(afterFirst.filter((r) => r.dispatchedAt === null).map((r) => r.id).sort(), [...refused].sort());
    assert.deepEqual(afterFirst.map((r) => r.attempts), rows.map((r) => (refused.has(r.id) ? 1 : 0)));
    assert.ok(afterFirst.every((r) => r.claimedUntil === null), "refused rows are released for the next pass, not held for a lease");
    assert.deepEqual(await queueDepth(), { visible: 10, inFlight: 0 });

    await relay.kick();
    assert.equal(errors.length, 1, "the second pass succeeds");
    assert.ok((await outboxRows()).every((r) => r.dispatchedAt !== null));
    assert.deepEqual(await queueDepth(), { visible: 12, inFlight: 0 });
    const sent = await receiveAllTaskIds(12);
    assert.deepEqual([...sent].sort(), rows.map((r) => r.id).sort(), "every task exactly once");
    assert.equal(await relay.drain(), 0, "nothing is left to send");
  });

  it("should send every outbox row exactly once when two relays on separate connections race", async () => {
    await storeJobs(4);
    const rows = await outboxRows();
    assert.equal(rows.length, 12);
    // Relay A (another worker process: its own Prisma client) claims 5 rows and stalls inside its
    // SendMessageBatch until relay B has drained; B must neither wait for A's rows nor send them.
    const otherProcess = createPgPrismaClient(h.db.url, 2);
    try {
      const sqsQueue = new SqsTaskQueue(h.sqs, h.queues.queueUrl);
      let enteredSend!: () => void;
      const aIsSending = new Promise<void>((resolve) => (enteredSend = resolve));
      let letASend!: () => void;
      const aMaySend = new Promise<void>((resolve) => (letASend = resolve));
      const stalling: TaskQueue = {
        send: (t) => sqsQueue.send(t),
        async sendBatch(tasks) {
          enteredSend();
          await aMaySend;
          return sqsQueue.sendBatch(tasks);
        },
      };
      const relayA = new OutboxRelay(new PrismaOutbox(otherProcess), stalling, undefined, 5);
      const relayB = new OutboxRelay(new PrismaOutbox(h.db.prisma), sqsQueue, undefined, 5);
      const drainA = relayA.drain();
      await aIsSending;
      assert.equal(await relayB.drain(), 7, "B sends every row A does not hold");
      letASend();
      assert.equal(await drainA, 5, "A sends what it claimed, and finds nothing more");
    } finally {
      await otherProcess.$disconnect();
    }
    const sent = await everyMessageSent(12);
    assert.equal(sent.length, 12, "12 messages in the queue, not more");
    assert.deepEqual([...sent].sort(), rows.map((r) => r.id).sort(), "every task exactly once");
    assert.ok((await outboxRows()).every((r) => r.dispatchedAt !== null && r.claimedUntil === null));
  });

  it("should hand each row to exactly one claimer when eight claims run at once", async () => {
    await storeJobs(4);
    const ids = (await outboxRows()).map((r) => r.id);
    const otherProcess = createPgPrismaClient(h.db.url, 4);
    try {
      const outboxes = [new PrismaOutbox(h.db.prisma), new PrismaOutbox(otherProcess)];
      // 8 claims of 3 over 12 rows: whatever the interleaving, no row twice and every row once.
      const claims = await Promise.all(Array.from({ length: 8 }, (_, k) => outboxes[k % 2]!.claim(3)));
      const claimed = claims.flat().map((m) => m.id);
      assert.equal(new Set(claimed).size, claimed.length, "no row in two claims");
      assert.deepEqual([...claimed].sort(), [...ids].sort());
      assert.deepEqual(await outboxes[0]!.claim(100), [], "nothing is left to claim while the leases hold");
      const job = (claims.flat()[0]!.payload as InferenceTaskV1).jobId;
      assert.deepEqual(await new PrismaScopedOutbox(h.db.prisma, { job: { organizationId: h.principal.organizationId, jobId: job } }).claim(100), [], "nor for a job-scoped relay (API Lambda)");
    } finally {
      await otherProcess.$disconnect();
    }
  });

  it("should re-send the tasks once their lease expires, and still store and announce exactly one result per slice, when the relay crashes between send and mark-sent", async () => {
    const { studyId, sliceIds } = await h.createStudy(20);
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const queue = new SqsTaskQueue(h.sqs, h.queues.queueUrl);
    // The first relay "dies" right after SQS accepted the batch: nothing is marked sent, and its
    // claim holds the rows for the lease (short here; 30 s by default).
    const leaseMs = 3000;
    const outbox = new PrismaOutbox(h.db.prisma, { leaseMs });
    const crashing: Outbox = { ...bind(outbox), markDispatched: async () => { throw new Error("relay process died"); } };
    const errors: unknown[] = [];
    await new OutboxRelay(crashing, queue, (e) => errors.push(e)).kick();
    assert.equal((errors[0] as Error).message, "relay process died");
    const held = (await outboxRows()).filter((r) => r.dispatchedAt === null);
    assert.equal(held.length, 2);
    assert.ok(held.every((r) => r.claimedUntil !== null));
    // While the lease holds, another relay leaves the rows alone…
    const relay = new OutboxRelay(new PrismaOutbox(h.db.prisma, { leaseMs }), queue);
    assert.equal(await relay.drain(), 0);
    assert.deepEqual(await queueDepth(), { visible: 2, inFlight: 0 });
    // …and once it has expired, sends them again: two copies of each task.
    const resent = await pollUntil("the expired claims re-sent", async () => {
      const n = await relay.drain();
      return n > 0 ? n : undefined;
    }, leaseMs + 10_000);
    assert.equal(resent, 2);
    assert.deepEqual(await queueDepth(), { visible: 4, inFlight: 0 });
    assert.ok((await outboxRows()).every((r) => r.dispatchedAt !== null && r.claimedUntil === null));

    const listener = new PgNotifyResultBus(h.db.url, async (org, jobId, sliceId) => (await h.jobs.resultsBySlice(org, [sliceId])).get(sliceId)?.find((r) => r.jobId === jobId) ?? null);
    await listener.start();
    const events: JobEventV1[] = [];
    const unsubscribe = listener.subscribe(job.id, (e) => events.push(e));
    try {
      const outcomes: MessageOutcome[] = [];
      await h.startWorker({
        relayOutbox: false, batchSize: 4,
        onMessageDone: (info) => {
          if (info.task?.jobId === job.id) outcomes.push(info.outcome);
        },
      });
      await pollUntil("all four copies handled", async () => (outcomes.length === 4 ? true : undefined), 60_000);
      const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED");
      assert.equal(done.completedSlices, 20);
      assert.ok(outcomes.every((o) => o === "ack" || o === "job_not_running"), outcomes.join());
      const rows = await h.db.prisma.sliceResult.findMany({ where: { jobId: job.id }, select: { sliceId: true } });
      assert.deepEqual(rows.map((r) => r.sliceId).sort(), [...sliceIds].sort());
      // Every copy was acked after its events left; a marker published now arrives after all of them.
      const marker: JobEventV1 = { schemaVersion: 1, kind: "STATUS", organizationId: h.principal.organizationId, jobId: job.id, status: "SUCCEEDED", completedSlices: -1, failedSlices: 0, totalSlices: 20, errorCode: null };
      await listener.publish(marker);
      await pollUntil("the marker event", async () => (events.some((e) => e.kind === "STATUS" && e.completedSlices === -1) ? true : undefined));
      const announced = events.flatMap((e) => (e.kind === "SLICE_RESULT" ? [e.result.sliceId] : []));
      assert.deepEqual([...announced].sort(), [...sliceIds].sort(), "one SLICE_RESULT per slice, none for a duplicate");
    } finally {
      unsubscribe();
      await listener.close();
    }
  });

  it("should leave no outbox row and send nothing when the job's transaction rolls back", async () => {
    const { studyId } = await h.createStudy(2);
    const org = h.principal.organizationId;
    const jobsBefore = await h.db.prisma.segmentationJob.count({ where: { organizationId: org } });
    const taskId = uuid();
    // Two tasks under one id: the second outbox insert violates the primary key, after the job insert.
    await assert.rejects(h.jobs.createWithTasks(
      { organizationId: org, studyId, method: "COIN", modelKey: "tiny-coin", params: {}, totalSlices: 2, createdById: h.principal.userId },
      (jobId) => [0, 1].map((k): InferenceTaskV1 => ({ schemaVersion: 1, taskId, jobId, organizationId: org, studyId, sliceIds: [uuid()], method: "COIN", modelKey: "tiny-coin", params: { k } })),
    ));
    assert.equal(await h.db.prisma.segmentationJob.count({ where: { organizationId: org } }), jobsBefore, "the job insert was rolled back");
    assert.equal(await h.db.prisma.outboxMessage.count(), 0);
    assert.equal(await new OutboxRelay(new PrismaOutbox(h.db.prisma), new SqsTaskQueue(h.sqs, h.queues.queueUrl)).drain(), 0);
    assert.deepEqual(await queueDepth(), { visible: 0, inFlight: 0 });
  });
});
