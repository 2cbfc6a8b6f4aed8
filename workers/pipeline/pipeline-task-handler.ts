// The worker's SegmentationTaskHandler: loads each task's slices, runs the pipeline, stores and publishes results.
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import { encodeRle } from "../../core/domain/rle.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import { decodeSlicePixels, type Slice } from "../../core/domain/slice.ts";
import type { SliceResultInput } from "../../core/domain/slice-result.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import { publishInOrder, type ResultBus } from "../../core/ports/result-bus.port.ts";
import type { SegmentationTaskHandler } from "../../core/ports/segmentation-task-handler.port.ts";
import type { JobProgress, SliceResultSink } from "../../core/ports/slice-result-sink.port.ts";
import type { StudyRepository } from "../../core/ports/study-repository.port.ts";
import { isImagingError } from "../../imaging/errors/imaging-error.ts";
import type { Image2D } from "../../imaging/volume.ts";
import { InferenceError } from "../errors/inference-error.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { parseSegmentationParams } from "./parse-segmentation-params.ts";
import type { SegmentationPipeline } from "./segmentation-pipeline.ts";

/** Collaborators of {@link PipelineTaskHandler} (wired by the composition root). */
export interface PipelineTaskHandlerDeps {
  readonly pipeline: SegmentationPipeline;
  readonly engine: InferenceEngine;
  readonly sink: SliceResultSink;
  readonly bus: ResultBus;
  readonly store: ObjectStore;
  readonly slices: Pick<StudyRepository, "findSlices">;
  /** Slices per pipeline call (default 8). */
  readonly batchSize?: number;
}

/** How the batches of a task ended: every batch ran, or a permanent error fails the job with `code`. */
type BatchesOutcome = { readonly failedWith: string | null };

/**
 * Implements core's {@link SegmentationTaskHandler} on the ONNX pipeline:
 *
 * 1. `markRunning` (a cancelled/finished job ends the task, acked), then a RUNNING STATUS;
 * 2. resolve models from `task.modelKey`: a CLASSIFIER (saliency methods) or a generator whose
 *    model.json names its classifier (COIN, SINGLA);
 * 3. per batch of slices: read pixels (little-endian float32 HU) from the object store, run
 *    {@link SegmentationPipeline.segment}, store the batch with one `saveResults` (idempotent) and
 *    publish its new results' SLICE_RESULT events together. A batch's write runs while the next
 *    batch is inferred; writes (and so events) stay in slice order, and the task returns only
 *    after its last write;
 * 4. when the job has no slices left, `finish` it (SUCCEEDED, or FAILED with the first slice
 *    failure code when every slice failed) and publish STATUS; otherwise publish a RUNNING STATUS.
 *    The counts come from the task's last write (the job-row lock orders writes, so exactly one
 *    write sees the last slice); a task that recorded slice failures re-reads them.
 *
 * Permanent failures (InferenceError with `permanent`, e.g. MODEL_NOT_FOUND, MODEL_INTEGRITY_FAILED,
 * or bad method parameters) fail the whole job with that code and return, so the message is acked.
 * A slice whose pixels are missing or malformed is recorded as a slice failure (NOT_FOUND or the
 * imaging code). Anything else (e.g. INFERENCE_FAILED, storage errors) is rethrown for redelivery;
 * so is a write's INVALID_STATE (the job was cancelled): no batch is inferred after it.
 */
export class PipelineTaskHandler implements SegmentationTaskHandler {
  constructor(private readonly deps: PipelineTaskHandlerDeps) {}

  async handle(task: InferenceTaskV1): Promise<void> {
    const { sink } = this.deps;
    // Independent reads, one round trip: the slices are simply unused when the job is not running.
    const [job, stored] = await Promise.all([sink.markRunning(task.organizationId, task.jobId), this.deps.slices.findSlices(task.organizationId, task.sliceIds)]);
    if (!job) return;
    await this.publishStatus(task, job);
    let models: { classifierKey: string; generatorKey?: string };
    let params: ReturnType<typeof parseSegmentationParams>;
    try {
      params = parseSegmentationParams(task.params);
      models = await this.resolveModels(task);
    } catch (error) {
      if (error instanceof InferenceError && error.permanent) return this.failJob(task, error.code);
      throw error;
    }
    const writer = new OrderedBatchWriter((inputs) => this.writeBatch(task, inputs));
    const failures = { first: null as string | null, count: 0 };
    let outcome: BatchesOutcome;
    try {
      outcome = await this.runBatches(task, stored, models, params, writer, failures);
    } catch (error) {
      // Never leave a write running behind the task (the runtime acks or releases the message next).
      await writer.settled().catch(() => {});
      throw error;
    }
    await writer.settled();
    if (outcome.failedWith) return this.failJob(task, outcome.failedWith);
    await this.finishIfDone(task, failures.first, failures.count === 0 ? writer.lastProgress : null);
  }

  private async runBatches(
    task: InferenceTaskV1,
    stored: ReadonlyMap<string, Slice>,
    models: { classifierKey: string; generatorKey?: string },
    params: ReturnType<typeof parseSegmentationParams>,
    writer: OrderedBatchWriter,
    failures: { first: string | null; count: number },
  ): Promise<BatchesOutcome> {
    const org = task.organizationId;
    const failSlice = async (sliceId: string, code: string): Promise<void> => {
      failures.first ??= code;
      failures.count++;
      await this.deps.sink.recordSliceFailure(org, task.jobId, sliceId, code);
    };
    const batchSize = this.deps.batchSize ?? 8;
    for (let start = 0; start < task.sliceIds.length; start += batchSize) {
      // A failed write (e.g. INVALID_STATE after a cancel) stops the task before more inference.
      if (writer.failed) return { failedWith: null };
      const ids = task.sliceIds.slice(start, start + batchSize);
      // The batch's reads run together; results and failures are taken in slice order.
      const images = await Promise.all(ids.map((id) => {
        const slice = stored.get(id);
        return slice ? this.readPixels(slice) : Promise.resolve(null);
      }));
      const ready: { slice: Slice; image: Image2D<Float32Array> }[] = [];
      for (const [k, sliceId] of ids.entries()) {
        const slice = stored.get(sliceId);
        const image = images[k];
        if (!slice || !image) {
          await failSlice(sliceId, slice ? "IMAGING_INCONSISTENT" : "NOT_FOUND");
          continue;
        }
        ready.push({ slice, image });
      }
      if (ready.length === 0) continue;
      let results;
      try {
        results = await this.deps.pipeline.segment({ method: task.method, ...models, slices: ready.map((r) => r.image), params });
      } catch (error) {
        if (error instanceof InferenceError && error.permanent) return { failedWith: error.code };
        if (isImagingError(error)) {
          for (const r of ready) await failSlice(r.slice.id, error.code);
          continue;
        }
        throw error;
      }
      writer.enqueue(results.map((r, j): SliceResultInput => ({
        jobId: task.jobId,
        sliceId: ready[j]!.slice.id,
        width: r.mask.width,
        height: r.mask.height,
        maskRle: encodeRle(r.mask.data),
        bbox: r.bbox ? [r.bbox.colMin, r.bbox.rowMin, r.bbox.colMax, r.bbox.rowMax] : [],
        areaPx: r.areaPx,
        pAbnormalBefore: r.pBefore,
        pAbnormalAfter: r.pAfter,
        flipped: r.flipped,
        timingsMs: r.timingsMs,
      })));
    }
    return { failedWith: null };
  }

  /**
   * Stores one batch and publishes its new results (in slice order, together), each with the job's
   * counts (so subscribers need not re-read the job per result); returns the job's counts after it.
   */
  private async writeBatch(task: InferenceTaskV1, inputs: readonly SliceResultInput[]): Promise<JobProgress> {
    const saved = await this.deps.sink.saveResults(task.organizationId, task.jobId, inputs);
    const created = saved.results.filter((r) => r.created);
    const { completedSlices, failedSlices, totalSlices } = saved.progress;
    // The write added created.length to completedSlices: the k-th new result is counted as the k-th stored.
    const events = created.map((r, k): JobEventV1 => ({
      schemaVersion: 1, kind: "SLICE_RESULT", organizationId: task.organizationId, jobId: task.jobId, result: r.result,
      progress: { completedSlices: completedSlices - (created.length - 1 - k), failedSlices, totalSlices },
    }));
    await publishInOrder(this.deps.bus, events);
    return saved.progress;
  }

  private async resolveModels(task: InferenceTaskV1): Promise<{ classifierKey: string; generatorKey?: string }> {
    const spec = await this.deps.engine.spec(task.modelKey);
    const counterfactual = task.method === "COIN" || task.method === "SINGLA";
    if (!counterfactual) {
      if (spec.kind !== "CLASSIFIER") throw new InferenceError("MODEL_KIND_MISMATCH", `${task.method} runs on a CLASSIFIER, ${task.modelKey} is a ${spec.kind}`);
      return { classifierKey: task.modelKey };
    }
    if (!spec.classifierKey) throw new InferenceError("MODEL_KIND_MISMATCH", `${task.modelKey} names no classifier`);
    return { classifierKey: spec.classifierKey, generatorKey: task.modelKey };
  }

  /** Slice pixels: little-endian float32, row-major, width × height (core/domain/slice.ts); null when absent or the wrong size. */
  private async readPixels(slice: Slice): Promise<Image2D<Float32Array> | null> {
    const bytes = await this.deps.store.get(slice.storageKey);
    const data = bytes ? decodeSlicePixels(bytes, slice.width, slice.height) : null;
    return data ? { width: slice.width, height: slice.height, data } : null;
  }

  private async failJob(task: InferenceTaskV1, code: string): Promise<void> {
    const job = await this.deps.sink.finish(task.organizationId, task.jobId, "FAILED", code);
    if (job) await this.publishStatus(task, job);
  }

  /** `progress`: the job's counts after this task's last write, or null to re-read them. */
  private async finishIfDone(task: InferenceTaskV1, failureCode: string | null, progress: JobProgress | null): Promise<void> {
    const current = progress ?? (await this.deps.sink.markRunning(task.organizationId, task.jobId));
    if (!current) return;
    if (current.completedSlices + current.failedSlices < current.totalSlices) {
      await this.publishStatus(task, { ...current, errorCode: null });
      return;
    }
    const status = current.completedSlices === 0 && current.failedSlices > 0 ? "FAILED" : "SUCCEEDED";
    const finished = await this.deps.sink.finish(task.organizationId, task.jobId, status, status === "FAILED" ? (failureCode ?? "NOT_FOUND") : null);
    if (finished) await this.publishStatus(task, finished);
  }

  private async publishStatus(task: InferenceTaskV1, job: JobProgress & Pick<SegmentationJob, "errorCode">): Promise<void> {
    await this.deps.bus.publish({
      schemaVersion: 1,
      kind: "STATUS",
      organizationId: task.organizationId,
      jobId: task.jobId,
      status: job.status,
      completedSlices: job.completedSlices,
      failedSlices: job.failedSlices,
      totalSlices: job.totalSlices,
      errorCode: job.errorCode,
    });
  }
}

/**
 * Runs a task's batch writes one after another, each started without waiting for it (so it overlaps
 * the next batch's inference). After the first failure no further write starts; `settled()` waits
 * for every write and rethrows that failure.
 */
class OrderedBatchWriter {
  private tail: Promise<void> = Promise.resolve();
  private error: { readonly cause: unknown } | null = null;
  /** The job's counts after the latest successful write (null before the first). */
  lastProgress: JobProgress | null = null;

  constructor(private readonly write: (inputs: readonly SliceResultInput[]) => Promise<JobProgress>) {}

  /** True once a write has failed. */
  get failed(): boolean {
    return this.error !== null;
  }

  enqueue(inputs: readonly SliceResultInput[]): void {
    this.tail = this.tail.then(async () => {
      if (this.error) return;
      try {
        this.lastProgress = await this.write(inputs);
      } catch (cause) {
        this.error = { cause };
      }
    });
  }

  async settled(): Promise<void> {
    await this.tail;
    if (this.error) throw this.error.cause;
  }
}
