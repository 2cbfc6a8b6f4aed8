// What a worker tells operators about each task: the structured log line (pino JSON, numbers only, no
// patient data) and the Prometheus /metrics histograms of stage times and result I/O.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { startWorker, type RunningWorker } from "../../app/worker/start-worker.ts";
import type { MessageOutcome } from "../../workers/runtime/worker-runtime.ts";
import { createDispatchHarness, pollUntil, type DispatchHarness } from "./support/dispatch-harness.ts";

/** Every field the "task message done" line may carry: anything else could leak data. */
const TASK_LINE_FIELDS = [
  "level", "time", "pid", "hostname", "msg", "messageId", "receiveCount", "jobId", "taskId",
  "outcome", "queueLagMs", "durationMs", "slices", "slicesComputed", "slicesStored", "writeMs", "stageMs",
];

describe("worker observability", () => {
  let h: DispatchHarness;
  let worker: RunningWorker | null = null;
  const lines: Record<string, unknown>[] = [];
  const outcomes: { jobId: string | null; outcome: MessageOutcome }[] = [];

  before(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 10 });
    const logger = pino({ level: "info" }, { write: (line: string) => void lines.push(JSON.parse(line) as Record<string, unknown>) });
    worker = await startWorker(h.workerSettings({
      metrics: { host: "127.0.0.1", port: 0 }, batchSize: 4,
      onMessageDone: ({ task, outcome }) => void outcomes.push({ jobId: task?.jobId ?? null, outcome }),
    }), logger);
  });
  after(async () => {
    await worker?.stop();
    await h?.close();
  });

  it("should log each task's stage timings as numbers and expose the stage histogram with samples when a task has run", async () => {
    const { studyId } = await h.createStudy(6);
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED");
    await pollUntil("the task acked", async () => (outcomes.some((o) => o.jobId === job.id && o.outcome === "ack") ? true : undefined));

    const line = lines.find((l) => l.msg === "task message done" && l.jobId === job.id);
    assert.ok(line, "one log line per task");
    assert.deepEqual(Object.keys(line).filter((k) => !TASK_LINE_FIELDS.includes(k)), [], "no field outside the list");
    assert.deepEqual([line.outcome, line.slices, line.slicesComputed, line.slicesStored], ["ack", 6, 6, 6]);
    assert.equal(typeof line.writeMs, "number");
    const stageMs = line.stageMs as Record<string, unknown>;
    assert.deepEqual(Object.keys(stageMs).sort(), ["classify", "infer", "postprocess", "preprocess", "total"]);
    for (const [stage, ms] of Object.entries(stageMs)) assert.ok(typeof ms === "number" && ms >= 0, `${stage}: ${String(ms)}`);
    assert.ok((stageMs.total as number) > 0);
    // No patient data: the study's title and the slices' storage keys never appear.
    assert.doesNotMatch(JSON.stringify(lines), new RegExp(`"dispatch"|slices/\\d+\\.f32|${studyId}`));

    const metrics = await (await fetch(`${worker!.metricsServer!.url}/metrics`)).text();
    assert.match(metrics, /^# TYPE coinseg_worker_stage_seconds histogram$/m);
    for (const stage of ["preprocess", "classify", "infer", "postprocess", "total"]) {
      assert.match(metrics, new RegExp(`^coinseg_worker_stage_seconds_count\\{stage="${stage}"\\} 6$`, "m"));
      assert.match(metrics, new RegExp(`^coinseg_worker_stage_seconds_bucket\\{stage="${stage}",le="\\+Inf"\\} 6$`, "m"));
    }
    const total = Number(/^coinseg_worker_stage_seconds_sum\{stage="total"\} (\S+)$/m.exec(metrics)?.[1]);
    assert.ok(Math.abs(total * 1000 - (stageMs.total as number)) < 0.1, `histogram ${total * 1000} ms vs log ${String(stageMs.total)} ms`);
    // 6 slices in batches of 4: two result writes; the events of the task go out in at most one
    // publish per write plus the task's two STATUS events (coalesced when they queue up together).
    assert.match(metrics, /^coinseg_worker_io_seconds_count\{op="save_results"\} 2$/m);
    const publishes = Number(/^coinseg_worker_io_seconds_count\{op="publish"\} (\d+)$/m.exec(metrics)?.[1]);
    assert.ok(publishes >= 1 && publishes <= 4, `${publishes} publish calls for 8 events`);
  });
});
