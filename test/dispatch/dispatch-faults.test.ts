// Fault tests of dispatch (issue 6): real PostgreSQL, moto's SQS, the real worker runtime and the
// ONNX pipeline on the tiny fixture models. Zero lost and zero duplicate results in every case.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { ReceiveMessageCommand } from "@aws-sdk/client-sqs";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { MessageOutcome } from "../../workers/runtime/worker-runtime.ts";
import { FIXTURE_MODELS_DIR } from "../workers/support/tiny-models.ts";
import { createDispatchHarness, motoEndpoint, pollUntil, TEST_AWS, type DispatchHarness } from "./support/dispatch-harness.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** A slow method on the tiny classifier (RISE, forced), so a job lasts long enough to be interrupted. */
const SLOW_PARAMS = { forceSegmentation: true, rise: { n: 1500, s: 8, p1: 0.1, seed: 1 } };

describe("dispatch through SQS under faults", () => {
  let h: DispatchHarness;
  before(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 2 });
  });
  after(async () => {
    await h?.close();
  });

  /** Results of a job: total rows and distinct slices. */
  async function resultRows(jobId: string): Promise<{ rows: number; distinctSlices: number }> {
    const rows = await h.db.prisma.sliceResult.findMany({ where: { jobId }, select: { sliceId: true } });
    return { rows: rows.length, distinctSlices: new Set(rows.map((r) => r.sliceId)).size };
  }

  /** Collects message outcomes of a worker so a test can wait for them. */
  function outcomeLog() {
    const seen: { jobId: string | null; outcome: MessageOutcome; receiveCount: number }[] = [];
    return {
      seen,
      onMessageDone: (info: { task: InferenceTaskV1 | null; outcome: MessageOutcome; message: { receiveCount: number } }) =>
        void seen.push({ jobId: info.task?.jobId ?? null, outcome: info.outcome, receiveCount: info.message.receiveCount }),
      waitFor: (what: string, predicate: (s: typeof seen) => boolean, timeoutMs = 30_000) =>
        pollUntil(what, async () => (predicate(seen) ? true : undefined), timeoutMs),
    };
  }

  it("should store exactly one result per slice and ack every message when a job goes through the outbox and SQS", async () => {
    const { studyId } = await h.createStudy(20);
    const log = outcomeLog();
    const worker = await h.startWorker({ onMessageDone: log.onMessageDone, metrics: { host: "127.0.0.1", port: 0 }, batchSize: 8 });
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED");
    assert.equal(done.completedSlices, 20);
    assert.deepEqual(await resultRows(job.id), { rows: 20, distinctSlices: 20 });
    await log.waitFor("two acked tasks", (s) => s.filter((x) => x.jobId === job.id && x.outcome === "ack").length === 2);
    const metrics = await (await fetch(`${worker.metricsServer!.url}/metrics`)).text();
    assert.match(metrics, /^coinseg_worker_messages_total\{outcome="ack"\} 2$/m);
    assert.match(metrics, /^coinseg_worker_slice_results_total 20$/m);
    assert.match(metrics, /^# TYPE coinseg_worker_queue_lag_seconds histogram$/m);
    await worker.stop();
  });

  it("should store one result per slice when the same task message is delivered twice", async () => {
    const { studyId } = await h.createStudy(6);
    const log = outcomeLog();
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const [row] = await h.db.prisma.outboxMessage.findMany({ where: { payload: { path: ["jobId"], equals: job.id } } });
    // The copy goes first, the outbox relay of the worker sends the original.
    await new SqsTaskQueue(h.sqs, h.queues.queueUrl).send(row!.payload as unknown as InferenceTaskV1);
    const worker = await h.startWorker({ onMessageDone: log.onMessageDone, concurrency: 2 });
    await log.waitFor("both copies handled", (s) => s.filter((x) => x.jobId === job.id).length === 2);
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED");
    assert.equal(done.completedSlices, 6);
    assert.deepEqual(await resultRows(job.id), { rows: 6, distinctSlices: 6 });
    assert.deepEqual(log.seen.filter((x) => x.jobId === job.id).map((x) => x.outcome), ["ack", "ack"]);
    await worker.stop();
  });
});
