// A queue message that is not a valid InferenceTaskV1 (PROTOCOL.md §3, §4): retried like a transient
// failure (a newer worker may read it), dead-lettered after 3 receives, its job (when its ids are
// readable) FAILED with TASK_MALFORMED; the worker keeps running and other jobs are unaffected.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { MessageOutcome } from "../../workers/runtime/worker-runtime.ts";
import { createDispatchHarness, pollUntil, type DispatchHarness } from "./support/dispatch-harness.ts";

describe("malformed task messages", () => {
  let h: DispatchHarness;
  before(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 2 });
  });
  after(async () => {
    await h?.close();
  });

  async function sendRaw(body: string): Promise<string> {
    const out = await h.sqs.send(new SendMessageCommand({ QueueUrl: h.queues.queueUrl, MessageBody: body }));
    return out.MessageId!;
  }

  it("should dead-letter a malformed message after 3 receives, fail its job with TASK_MALFORMED and keep serving other jobs", async () => {
    const org = h.principal.organizationId;
    const victim = await h.createStudy(2);
    // A job whose only task message comes from a producer speaking an unknown contract version.
    const job = await h.jobs.createWithTasks({ organizationId: org, studyId: victim.studyId, method: "COIN", modelKey: "tiny-coin", params: {}, totalSlices: 2, createdById: null }, () => []);
    const futureVersion = await sendRaw(JSON.stringify({ schemaVersion: 2, taskId: job.id, jobId: job.id, organizationId: org, studyId: victim.studyId, slices: { from: 0, to: 1 } }));
    // And one whose body is not even JSON (no job can be named).
    const garbage = await sendRaw("{ this is not json");

    const outcomes = new Map<string, { outcome: MessageOutcome; receiveCount: number; jobId: string | null }[]>();
    await h.startWorker({
      concurrency: 1, retryDelaysMs: [],
      onMessageDone: ({ task, outcome, message }) => {
        const list = outcomes.get(message.messageId) ?? [];
        list.push({ outcome, receiveCount: message.receiveCount, jobId: task?.jobId ?? null });
        outcomes.set(message.messageId, list);
      },
    });
    const healthy = await h.createStudy(3);
    const meanwhile = await h.segmentation.requestSegmentation(h.principal, { studyId: healthy.studyId, method: "COIN", modelKey: "tiny-coin" });

    const failed = await h.waitForJob(job.id, (j) => j.status === "FAILED", 60_000);
    assert.equal(failed.errorCode, "TASK_MALFORMED");
    assert.equal(failed.completedSlices, 0);
    await pollUntil("both malformed messages in the dead-letter queue", async () => ((await h.deadLetterCount()) === 2 ? true : undefined), 30_000);
    for (const messageId of [futureVersion, garbage]) {
      assert.deepEqual(outcomes.get(messageId), [
        { outcome: "retry", receiveCount: 1, jobId: null },
        { outcome: "retry", receiveCount: 2, jobId: null },
        { outcome: "dead_lettered", receiveCount: 3, jobId: null },
      ]);
    }

    const ok = await h.waitForJob(meanwhile.id, (j) => j.status === "SUCCEEDED");
    assert.equal(ok.completedSlices, 3);
    // The same worker still takes new work after dead-lettering.
    const later = await h.segmentation.requestSegmentation(h.principal, { studyId: healthy.studyId, method: "COIN", modelKey: "tiny-coin" });
    assert.equal((await h.waitForJob(later.id, (j) => j.status === "SUCCEEDED")).completedSlices, 3);
    for (const jobId of [meanwhile.id, later.id]) assert.equal(await h.db.prisma.sliceResult.count({ where: { jobId } }), 3);
    assert.equal(await h.db.prisma.sliceResult.count({ where: { jobId: job.id } }), 0);
  });
});
