import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InMemoryResultBus } from "../../adapters/events/in-memory-result-bus.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";
import { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import { decodeRle } from "../../core/domain/rle.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { Slice } from "../../core/domain/slice.ts";
import type { SliceResult, SliceResultInput } from "../../core/domain/slice-result.ts";
import type { SavedSliceResults, SliceResultSink } from "../../core/ports/slice-result-sink.port.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import { PipelineTaskHandler } from "../../workers/pipeline/pipeline-task-handler.ts";
import { SegmentationPipeline } from "../../workers/pipeline/segmentation-pipeline.ts";
import { readFloat32, tinyEngine } from "./support/tiny-models.ts";

const engine = tinyEngine();
const root = mkdtempSync(join(tmpdir(), "coinseg-handler-"));
after(async () => {
  await engine.release();
  rmSync(root, { recursive: true, force: true });
});

/** An in-memory SliceResultSink with the port's idempotency rules (unique job + slice). */
class MemorySink implements SliceResultSink {
  job: SegmentationJob;
  readonly results = new Map<string, SliceResult>();
  readonly failures = new Map<string, string>();
  /** Slice ids of each `saveResults` call, and how many `saveResult` calls were made. */
  readonly batchWrites: string[][] = [];
  singleWrites = 0;
  /** Set to make every later write fail as a cancelled job's does. */
  cancelled = false;
  constructor(totalSlices: number) {
    this.job = {
      id: "job-1", organizationId: "org-1", studyId: "study-1", method: "COIN", modelKey: "tiny-coin", params: {}, status: "QUEUED",
      totalSlices, completedSlices: 0, failedSlices: 0, errorCode: null, createdAt: new Date(0), startedAt: null, finishedAt: null,
    };
  }
  async markRunning(): Promise<SegmentationJob | null> {
    if (this.job.status !== "QUEUED" && this.job.status !== "RUNNING") return null;
    this.job = { ...this.job, status: "RUNNING" };
    return this.job;
  }
  async saveResult(organizationId: string, input: SliceResultInput): Promise<{ result: SliceResult; created: boolean }> {
    this.singleWrites++;
    return this.store(organizationId, input);
  }
  async saveResults(organizationId: string, _jobId: string, inputs: readonly SliceResultInput[]): Promise<SavedSliceResults> {
    this.batchWrites.push(inputs.map((i) => i.sliceId));
    if (this.cancelled) throw new DomainError("INVALID_STATE", "the job is no longer running");
    const results = inputs.map((input) => this.store(organizationId, input));
    const { status, completedSlices, failedSlices, totalSlices } = this.job;
    return { results, progress: { status, completedSlices, failedSlices, totalSlices } };
  }
  private store(organizationId: string, input: SliceResultInput): { result: SliceResult; created: boolean } {
    const existing = this.results.get(input.sliceId);
    if (existing) return { result: existing, created: false };
    const result: SliceResult = { ...input, id: `r-${input.sliceId}`, organizationId, sliceIndex: Number(input.sliceId.split("-")[1]), createdAt: new Date(0) };
    this.results.set(input.sliceId, result);
    this.job = { ...this.job, completedSlices: this.job.completedSlices + 1 };
    return { result, created: true };
  }
  async recordSliceFailure(_org: string, _job: string, sliceId: string, code: string): Promise<void> {
    if (this.failures.has(sliceId)) return;
    this.failures.set(sliceId, code);
    this.job = { ...this.job, failedSlices: this.job.failedSlices + 1 };
  }
  async finish(_org: string, _job: string, status: "SUCCEEDED" | "FAILED" | "CANCELLED", errorCode?: string | null): Promise<SegmentationJob | null> {
    if (this.job.status !== "QUEUED" && this.job.status !== "RUNNING") return null;
    this.job = { ...this.job, status, errorCode: errorCode ?? null };
    return this.job;
  }
}

async function setup(sliceCount: number, storedCount = sliceCount) {
  const store = new LocalObjectStore({ rootDir: join(root, `store-${Math.random().toString(36).slice(2)}`), publicBaseUrl: () => "http://127.0.0.1", signingSecret: "s" });
  const x = readFloat32("tiny-classifier/golden/x.bin");
  const slices = new Map<string, Slice>();
  for (let i = 0; i < storedCount; i++) {
    const hu = Float32Array.from(x.subarray((i % 4) * 16384, ((i % 4) + 1) * 16384), (v) => ((v + 1) / 2) * 500 - 160);
    const key = `org-1/slices/s-${i}.f32`;
    await store.put(key, new Uint8Array(hu.buffer));
    slices.set(`s-${i}`, {
      id: `s-${i}`, organizationId: "org-1", studyId: "study-1", seriesId: "series-1", sliceIndex: i, width: 128, height: 128,
      spacingMm: [1, 1], positionLPS: [0, 0, i], storageKey: key,
    });
  }
  const sink = new MemorySink(sliceCount);
  const bus = new InMemoryResultBus();
  const events: JobEventV1[] = [];
  bus.subscribe("job-1", (e) => events.push(e));
  /** Kinds of the events of each publish / publishMany call. */
  const publishes: string[][] = [];
  const recordingBus: ResultBus = {
    publish: async (e) => { publishes.push([e.kind]); await bus.publish(e); },
    publishMany: async (es) => { publishes.push(es.map((e) => e.kind)); await bus.publishMany(es); },
    subscribe: (jobId, listener) => bus.subscribe(jobId, listener),
  };
  const pipeline = new SegmentationPipeline({ engine });
  /** Number of pipeline.segment calls (inference batches). */
  const inferred = { batches: 0 };
  const segment = pipeline.segment.bind(pipeline);
  pipeline.segment = async (request) => {
    inferred.batches++;
    return segment(request);
  };
  const handler = new PipelineTaskHandler({
    pipeline, engine, sink, bus: recordingBus, store, batchSize: 2,
    slices: { findSlices: async (_org, ids) => new Map(ids.filter((id) => slices.has(id)).map((id) => [id, slices.get(id)!])) },
  });
  const task = (overrides: Partial<InferenceTaskV1> = {}): InferenceTaskV1 => ({
    schemaVersion: 1, taskId: "t-1", jobId: "job-1", organizationId: "org-1", studyId: "study-1",
    sliceIds: Array.from({ length: sliceCount }, (_, i) => `s-${i}`), method: "COIN", modelKey: "tiny-coin", params: {}, ...overrides,
  });
  return { sink, events, publishes, inferred, handler, task };
}

describe("PipelineTaskHandler", () => {
  it("should store one result per slice, publish each and finish SUCCEEDED when a COIN task is handled twice", async () => {
    const { sink, events, handler, task } = await setup(3);
    await handler.handle(task());
    await handler.handle(task()); // at-least-once delivery: the job is finished, nothing changes
    assert.equal(sink.results.size, 3);
    assert.equal(sink.job.status, "SUCCEEDED");
    assert.equal(sink.job.completedSlices, 3);
    assert.deepEqual(events.map((e) => e.kind), ["STATUS", "SLICE_RESULT", "SLICE_RESULT", "SLICE_RESULT", "STATUS"]);
    assert.deepEqual(events.map((e) => (e.kind === "STATUS" ? e.status : e.result.sliceId)), ["RUNNING", "s-0", "s-1", "s-2", "SUCCEEDED"]);
    const first = sink.results.get("s-0")!;
    assert.ok(first.pAbnormalBefore > 0.9 && first.timingsMs.infer! > 0);
    assert.equal(decodeRle(first.maskRle, 128 * 128).reduce((s, v) => s + v, 0), first.areaPx);
    const normal = sink.results.get("s-1")!;
    assert.equal(normal.areaPx, 0, "the tiny classifier calls golden image 1 normal");
    assert.deepEqual(normal.bbox, []);
  });

  it("should write each inference batch with one saveResults call and publish its results together when a task spans several batches", async () => {
    const { sink, publishes, handler, task } = await setup(5);
    await handler.handle(task());
    assert.deepEqual(sink.batchWrites, [["s-0", "s-1"], ["s-2", "s-3"], ["s-4"]]);
    assert.equal(sink.singleWrites, 0, "no per-slice write");
    assert.deepEqual(publishes, [["STATUS"], ["SLICE_RESULT", "SLICE_RESULT"], ["SLICE_RESULT", "SLICE_RESULT"], ["SLICE_RESULT"], ["STATUS"]]);
    assert.deepEqual([sink.job.status, sink.job.completedSlices], ["SUCCEEDED", 5]);
  });

  it("should carry the job's counts in each SLICE_RESULT event, one more per new result of a batch, when the batches are written", async () => {
    const { events, handler, task } = await setup(5);
    await handler.handle(task());
    const progress = events.flatMap((e) => (e.kind === "SLICE_RESULT" ? [[e.result.sliceId, e.progress?.completedSlices, e.progress?.failedSlices, e.progress?.totalSlices]] : []));
    assert.deepEqual(progress, [["s-0", 1, 0, 5], ["s-1", 2, 0, 5], ["s-2", 3, 0, 5], ["s-3", 4, 0, 5], ["s-4", 5, 0, 5]]);
  });

  it("should publish a RUNNING STATUS with the counts of its last write and leave the job running when other slices of the job remain", async () => {
    const { sink, events, handler, task } = await setup(4);
    await handler.handle(task({ sliceIds: ["s-0", "s-1", "s-2"] }));
    assert.equal(sink.job.status, "RUNNING");
    const last = events.at(-1)!;
    assert.deepEqual(last.kind === "STATUS" && [last.status, last.completedSlices, last.totalSlices], ["RUNNING", 3, 4]);
  });

  it("should stop inferring, store nothing more and reject with INVALID_STATE when a batch write finds the job cancelled", async () => {
    const { sink, events, inferred, handler, task } = await setup(8);
    sink.cancelled = true;
    await assert.rejects(handler.handle(task()), (err: Error & { code?: string }) => err.code === "INVALID_STATE");
    // The first write runs while the second batch is inferred; no batch starts after the failure.
    assert.ok(inferred.batches <= 2, `inferred ${inferred.batches} batches`);
    assert.deepEqual(sink.batchWrites, [["s-0", "s-1"]]);
    assert.equal(sink.results.size, 0);
    assert.deepEqual(events.map((e) => e.kind), ["STATUS"]);
  });

  it("should fail the job with MODEL_NOT_FOUND and return when the model key is unknown", async () => {
    const { sink, events, handler, task } = await setup(1);
    await handler.handle(task({ modelKey: "missing-model" }));
    assert.equal(sink.job.status, "FAILED");
    assert.equal(sink.job.errorCode, "MODEL_NOT_FOUND");
    assert.equal(events.at(-1)?.kind, "STATUS");
  });

  it("should fail the job with INVALID_METHOD_INPUT when the parameters are malformed", async () => {
    const { sink, handler, task } = await setup(1);
    await handler.handle(task({ method: "RISE", modelKey: "tiny-classifier", params: { rise: { n: -5 } } }));
    assert.equal(sink.job.errorCode, "INVALID_METHOD_INPUT");
  });

  it("should fail the job with INVALID_METHOD_INPUT when refine meets a generator with no calibrated threshold", async () => {
    const { sink, handler, task } = await setup(1);
    await handler.handle(task({ params: { refine: true } }));
    assert.equal(sink.job.status, "FAILED");
    assert.equal(sink.job.errorCode, "INVALID_METHOD_INPUT");
    assert.equal(sink.results.size, 0);
  });

  it("should store refined masks when refine comes with a lower threshold", async () => {
    const { sink, handler, task } = await setup(1);
    await handler.handle(task({ params: { refine: true, hysteresisThreshold: 0.1, forceSegmentation: true } }));
    assert.equal(sink.job.status, "SUCCEEDED");
    assert.equal(sink.results.size, 1);
  });

  it("should record NOT_FOUND for a slice without pixels and still finish when the others succeed", async () => {
    const { sink, handler, task } = await setup(2, 1);
    await handler.handle(task({ method: "LAYER_CAM", modelKey: "tiny-classifier" }));
    assert.equal(sink.failures.get("s-1"), "NOT_FOUND");
    assert.equal(sink.results.size, 1);
    assert.equal(sink.job.status, "SUCCEEDED");
  });
});
