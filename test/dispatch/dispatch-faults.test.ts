// Fault tests of dispatch (issue 6): real PostgreSQL, moto's SQS, the real worker runtime and the
// ONNX pipeline on the tiny fixture models. Zero lost and zero duplicate results in every case.
import { after, afterEach, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { fileURLToPath } from "node:url";
import { GetQueueAttributesCommand } from "@aws-sdk/client-sqs";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { MessageOutcome } from "../../workers/runtime/worker-runtime.ts";
import { FIXTURE_MODELS_DIR } from "../workers/support/tiny-models.ts";
import { createDispatchHarness, motoEndpoint, pollUntil, TEST_AWS, type DispatchHarness } from "./support/dispatch-harness.ts";

const repoRoot = fileURLToPath(new URL("../..", import.meta.url));
/** A slow method on the tiny classifier (RISE, forced), so a job lasts long enough to be interrupted. */
const SLOW_PARAMS = { forceSegmentation: true, rise: { n: 1000, s: 8, p1: 0.1, seed: 1 } };
/** The worker processes connect under this name, so a test can cut exactly their connections. */
const WORKER_APP_NAME = "coinseg-dispatch-worker";

/** The harness's object store with its `get` replaced by `wrap` (which may call the real one). */
function storeWithGet<S extends { get(key: string): Promise<unknown> }>(
  store: S,
  wrap: (key: string, get: (key: string) => ReturnType<S["get"]>) => Promise<unknown>,
): S {
  return new Proxy(store, {
    get(target, prop) {
      if (prop === "get") return (key: string) => wrap(key, (k) => target.get(k) as ReturnType<S["get"]>);
      const v: unknown = Reflect.get(target, prop, target);
      return typeof v === "function" ? (v as () => unknown).bind(target) : v;
    },
  });
}

describe("dispatch through SQS under faults", () => {
  let h: DispatchHarness;
  before(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 2 });
  });
  afterEach(async () => {
    await h.stopWorkers();
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
  });

  it("should store one result per slice when the same task message is delivered twice", async () => {
    const { studyId } = await h.createStudy(6);
    const log = outcomeLog();
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    const [row] = await h.db.prisma.outboxMessage.findMany({ where: { payload: { path: ["jobId"], equals: job.id } } });
    // The copy goes first, the outbox relay of the worker sends the original.
    await new SqsTaskQueue(h.sqs, h.queues.queueUrl).send(row!.payload as unknown as InferenceTaskV1);
    await h.startWorker({ onMessageDone: log.onMessageDone, concurrency: 2 });
    await log.waitFor("both copies handled", (s) => s.filter((x) => x.jobId === job.id).length === 2);
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED");
    assert.equal(done.completedSlices, 6);
    assert.deepEqual(await resultRows(job.id), { rows: 6, distinctSlices: 6 });
    // The copy that loses the race either finds nothing new (ack) or finds the job already finished.
    const outcomes = log.seen.filter((x) => x.jobId === job.id).map((x) => x.outcome);
    assert.ok(outcomes.includes("ack") && outcomes.every((o) => o === "ack" || o === "job_not_running"), outcomes.join());
  });

  /** The database URL with the worker's application_name. */
  function withAppName(url: string): string {
    const u = new URL(url);
    u.searchParams.set("application_name", WORKER_APP_NAME);
    return u.toString();
  }

  /** Starts `npm run worker`'s entry point as a child process on this harness. */
  function spawnWorker() {
    const child = spawn(process.execPath, ["--import", "tsx", "app/worker.ts"], {
      cwd: repoRoot,
      stdio: ["ignore", "pipe", "pipe"],
      env: {
        PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: "true", AWS_REGION: TEST_AWS.region,
        AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test", DATABASE_URL: h.db.url, SQS_ENDPOINT: motoEndpoint(),
        SQS_QUEUE_URL: h.queues.queueUrl, SQS_VISIBILITY_TIMEOUT_SECONDS: String(h.visibilityTimeoutSeconds), SQS_WAIT_TIME_SECONDS: "1",
        WORKER_BATCH_SIZE: "1", MODELS_DIR: FIXTURE_MODELS_DIR, OBJECT_STORE: "local", LOCAL_STORE_DIR: h.storeDir, METRICS_PORT: "0",
        LOG_LEVEL: process.env.DISPATCH_LOG ?? "warn", OUTBOX_POLL_MS: "50",
      },
    });
    let output = "";
    child.stdout.on("data", (d: Buffer) => (output += d.toString()));
    child.stderr.on("data", (d: Buffer) => (output += d.toString()));
    return { child, output: () => output };
  }

  it("should complete the job with exactly one result per slice when a worker is killed mid-job (SIGKILL)", async () => {
    const { studyId } = await h.createStudy(4);
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "RISE", modelKey: "tiny-classifier", params: SLOW_PARAMS });
    const { child, output } = spawnWorker();
    const exited = once(child, "exit");
    try {
      await h.waitForJob(job.id, (j) => j.completedSlices >= 1, 60_000);
    } catch (err) {
      child.kill("SIGKILL");
      throw new Error(`${String(err)}\nworker output:\n${output()}`, { cause: err });
    }
    child.kill("SIGKILL");
    const [, signal] = await exited;
    assert.equal(signal, "SIGKILL");
    const partial = await h.jobs.findJob(h.principal.organizationId, job.id);
    assert.equal(partial!.status, "RUNNING", "the job must still be running when its worker dies");
    const log = outcomeLog();
    await h.startWorker({ onMessageDone: log.onMessageDone });
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED", 60_000);
    assert.equal(done.completedSlices, 4);
    assert.deepEqual(await resultRows(job.id), { rows: 4, distinctSlices: 4 });
    await log.waitFor("the redelivered message", (s) => s.some((x) => x.jobId === job.id && x.outcome === "ack"));
    assert.ok(log.seen.find((x) => x.jobId === job.id)!.receiveCount >= 2, "the message must have reappeared after its visibility timeout");
  });

  it("should release the message after the current slice and exit 0 when the worker gets SIGTERM", async () => {
    const { studyId } = await h.createStudy(4);
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "RISE", modelKey: "tiny-classifier", params: SLOW_PARAMS });
    const { child, output } = spawnWorker();
    const exited = once(child, "exit");
    await h.waitForJob(job.id, (j) => j.completedSlices >= 1, 60_000).catch((err: unknown) => {
      child.kill("SIGKILL");
      throw new Error(`${String(err)}\nworker output:\n${output()}`, { cause: err });
    });
    child.kill("SIGTERM");
    const [code] = await exited;
    assert.equal(code, 0, output());
    const atStop = await h.jobs.findJob(h.principal.organizationId, job.id);
    assert.equal(atStop!.status, "RUNNING");
    assert.ok(atStop!.completedSlices < 4);
    const log = outcomeLog();
    await h.startWorker({ onMessageDone: log.onMessageDone });
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED", 60_000);
    assert.deepEqual(await resultRows(job.id), { rows: 4, distinctSlices: 4 });
    assert.equal(done.completedSlices, 4);
    // Released at shutdown, so taken again by the next receive (its second).
    await log.waitFor("the released message acked", (s) => s.some((x) => x.jobId === job.id && x.outcome === "ack"));
    assert.deepEqual(log.seen.filter((x) => x.jobId === job.id).map((x) => [x.outcome, x.receiveCount]), [["ack", 2]]);
  });

  it("should keep a long task invisible with heartbeats when it runs longer than the visibility timeout", async () => {
    const { studyId } = await h.createStudy(2);
    const log = outcomeLog();
    // Each pixel read waits 1.5 visibility timeouts, so the task outlasts the timeout on any machine
    // (a slow method alone finished in 1.5 s on a fast CI host).
    const readDelayMs = h.visibilityTimeoutSeconds * 1500;
    const store = storeWithGet(h.store, async (key, get) => {
      await new Promise((resolve) => setTimeout(resolve, readDelayMs));
      return get(key);
    });
    const worker = await h.startWorker({ onMessageDone: log.onMessageDone, concurrency: 2, store });
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED", 60_000);
    await log.waitFor("the task's message", (s) => s.some((x) => x.jobId === job.id));
    const started = await h.db.prisma.segmentationJob.findUniqueOrThrow({ where: { id: job.id } });
    const ranMs = started.finishedAt!.getTime() - started.startedAt!.getTime();
    assert.ok(ranMs > h.visibilityTimeoutSeconds * 1000, `the task must outlast the visibility timeout (ran ${ranMs} ms)`);
    assert.deepEqual(log.seen.filter((x) => x.jobId === job.id), [{ jobId: job.id, outcome: "ack", receiveCount: 1 }]);
    assert.ok(worker.runtime.metrics.heartbeats.get() >= 1);
    // The message was deleted, not merely hidden: the queue holds nothing, visible or in flight.
    const attrs = await h.sqs.send(new GetQueueAttributesCommand({ QueueUrl: h.queues.queueUrl, AttributeNames: ["ApproximateNumberOfMessages", "ApproximateNumberOfMessagesNotVisible"] }));
    assert.deepEqual([attrs.Attributes?.ApproximateNumberOfMessages, attrs.Attributes?.ApproximateNumberOfMessagesNotVisible], ["0", "0"]);
    assert.deepEqual(await resultRows(job.id), { rows: 2, distinctSlices: 2 });
  });

  it("should dead-letter a poison message after 3 receives and fail its job with a code when other jobs are unaffected", async () => {
    const poison = await h.createStudy(2);
    const healthy = await h.createStudy(4);
    // Every read of the poison study's pixels fails (a transient-looking error that never heals).
    const store = storeWithGet(h.store, async (key, get) => {
      if (key.includes(poison.studyId)) throw new Error("storage unavailable");
      return get(key);
    });
    const log = outcomeLog();
    await h.startWorker({ onMessageDone: log.onMessageDone, store, concurrency: 2, retryDelaysMs: [] });
    const bad = await h.segmentation.requestSegmentation(h.principal, { studyId: poison.studyId, method: "COIN", modelKey: "tiny-coin" });
    const good = await h.segmentation.requestSegmentation(h.principal, { studyId: healthy.studyId, method: "COIN", modelKey: "tiny-coin" });
    const failed = await h.waitForJob(bad.id, (j) => j.status === "FAILED", 60_000);
    assert.equal(failed.errorCode, "TASK_DEAD_LETTERED");
    await pollUntil("the poison message in the dead-letter queue", async () => ((await h.deadLetterCount()) === 1 ? true : undefined), 30_000);
    // Every receive but the last was a retry; the third receive failed the job and let the DLQ take it.
    await log.waitFor("the dead-lettering receive", (s) => s.some((x) => x.jobId === bad.id && x.outcome === "dead_lettered"));
    const receives = log.seen.filter((x) => x.jobId === bad.id);
    assert.deepEqual(receives.at(-1), { jobId: bad.id, outcome: "dead_lettered", receiveCount: 3 });
    assert.ok(receives.slice(0, -1).every((x) => x.outcome === "retry"));
    const ok = await h.waitForJob(good.id, (j) => j.status === "SUCCEEDED");
    assert.equal(ok.completedSlices, 4);
    assert.deepEqual(await resultRows(good.id), { rows: 4, distinctSlices: 4 });
    assert.deepEqual(await resultRows(bad.id), { rows: 0, distinctSlices: 0 });
  });

  it("should retry and complete the job when the PostgreSQL connection is lost for a few seconds", async () => {
    const { studyId } = await h.createStudy(4);
    const log = outcomeLog();
    await h.startWorker({ onMessageDone: log.onMessageDone, databaseUrl: withAppName(h.db.url) });
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "RISE", modelKey: "tiny-classifier", params: SLOW_PARAMS });
    await h.waitForJob(job.id, (j) => j.completedSlices >= 1, 60_000);
    const admin = new (await import("pg")).default.Client({ connectionString: (await import("../adapters/support/temp-database.ts")).ADMIN_DATABASE_URL });
    await admin.connect();
    try {
      await admin.query(`ALTER DATABASE "${h.db.name}" ALLOW_CONNECTIONS false`);
      const { rows } = await admin.query("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE datname = $1 AND application_name = $2", [h.db.name, WORKER_APP_NAME]);
      assert.ok(rows.length >= 1, "the worker's connections must have been cut");
      // The outage itself (a fault of fixed length, not a synchronisation).
      await new Promise((resolve) => setTimeout(resolve, 2000));
    } finally {
      await admin.query(`ALTER DATABASE "${h.db.name}" ALLOW_CONNECTIONS true`);
      await admin.end();
    }
    const done = await h.waitForJob(job.id, (j) => j.status === "SUCCEEDED", 60_000);
    assert.equal(done.completedSlices, 4);
    assert.deepEqual(await resultRows(job.id), { rows: 4, distinctSlices: 4 });
    await log.waitFor("the task acked", (s) => s.some((x) => x.jobId === job.id && x.outcome === "ack"));
    assert.ok(!log.seen.some((x) => x.jobId === job.id && x.outcome === "dead_lettered"));
  });

  it("should store no further results and end CANCELLED when the job is cancelled mid-job", async () => {
    const { studyId } = await h.createStudy(6);
    const log = outcomeLog();
    await h.startWorker({ onMessageDone: log.onMessageDone });
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "RISE", modelKey: "tiny-classifier", params: SLOW_PARAMS });
    await h.waitForJob(job.id, (j) => j.completedSlices >= 1, 60_000);
    const cancelled = await h.segmentation.cancelJob(h.principal, job.id);
    assert.equal(cancelled.status, "CANCELLED");
    const atCancel = await resultRows(job.id);
    await log.waitFor("the task to stop", (s) => s.some((x) => x.jobId === job.id));
    assert.deepEqual(log.seen.filter((x) => x.jobId === job.id).map((x) => x.outcome), ["job_not_running"]);
    const after = await h.jobs.findJob(h.principal.organizationId, job.id);
    assert.equal(after!.status, "CANCELLED");
    assert.deepEqual(await resultRows(job.id), atCancel);
    assert.ok(atCancel.rows < 6, "the job must have been cancelled before its last slice");
    assert.equal(after!.completedSlices, atCancel.rows);
  });
});
