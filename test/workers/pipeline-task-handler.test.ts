import assert from "node:assert/strict";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { InMemoryResultBus } from "../../adapters/events/in-memory-result-bus.ts";
import { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import { decodeRle } from "../../core/domain/rle.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { Slice } from "../../core/domain/slice.ts";
import type { SliceResult, SliceResultInput } from "../../core/domain/slice-result.ts";
import type { SliceResultSink } from "../../core/ports/slice-result-sink.port.ts";
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
  const handler = new PipelineTaskHandler({
    pipeline: new SegmentationPipeline({ engine }), engine, sink, bus, store, batchSize: 2,
    slices: { findSlices: async (_org, ids) => new Map(ids.filter((id) => slices.has(id)).map((id) => [id, slices.get(id)!])) },
  });
  const task = (overrides: Partial<InferenceTaskV1> = {}): InferenceTaskV1 => ({
    schemaVersion: 1, taskId: "t-1", jobId: "job-1", organizationId: "org-1", studyId: "study-1",
    sliceIds: Array.from({ length: sliceCount }, (_, i) => `s-${i}`), method: "COIN", modelKey: "tiny-coin", params: {}, ...overrides,
  });
  return { sink, events, handler, task };
}

describe("PipelineTaskHandler", () => {
  it("should store one result per slice, publish each and finish SUCCEEDED when a COIN task is handled twice", async () => {
    const { sink, events, handler, task } = await setup(3);
    await handler.handle(task());
    await handler.handle(task()); // at-least-once delivery: the job is finished, nothing changes
    assert.equal(sink.results.size, 3);
    assert.equal(sink.job.status, "SUCCEEDED");
    assert.equal(sink.job.completedSlices, 3);
    assert.deepEqual(events.map((e) => e.kind), ["SLICE_RESULT", "SLICE_RESULT", "SLICE_RESULT", "STATUS"]);
    const first = sink.results.get("s-0")!;
    assert.ok(first.pAbnormalBefore > 0.9 && first.timingsMs.infer! > 0);
    assert.equal(decodeRle(first.maskRle, 128 * 128).reduce((s, v) => s + v, 0), first.areaPx);
    const normal = sink.results.get("s-1")!;
    assert.equal(normal.areaPx, 0, "the tiny classifier calls golden image 1 normal");
    assert.deepEqual(normal.bbox, []);
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

  it("should record NOT_FOUND for a slice without pixels and still finish when the others succeed", async () => {
    const { sink, handler, task } = await setup(2, 1);
    await handler.handle(task({ method: "LAYER_CAM", modelKey: "tiny-classifier" }));
    assert.equal(sink.failures.get("s-1"), "NOT_FOUND");
    assert.equal(sink.results.size, 1);
    assert.equal(sink.job.status, "SUCCEEDED");
  });
});
