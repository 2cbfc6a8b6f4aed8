// Use cases on segmentation jobs: request, cancel, read, and watch a job's progress.
import { randomUUID } from "node:crypto";
import { authorize } from "../domain/authorize.ts";
import type { SegmentationMethod, ModelKind } from "../domain/enums.ts";
import type { InferenceTaskV1 } from "../domain/inference-task.ts";
import { isUuid } from "../domain/is-uuid.ts";
import { isTerminalJobStatus } from "../domain/job-state-machine.ts";
import type { JobEventV1 } from "../domain/job-event.ts";
import type { Principal } from "../domain/principal.ts";
import type { SegmentationJob } from "../domain/segmentation-job.ts";
import type { SliceResult } from "../domain/slice-result.ts";
import type { Series } from "../domain/series.ts";
import { decodeRle } from "../domain/rle.ts";
import type { ModelEntry } from "../domain/model-entry.ts";
import { checkSegmentationParams, refinementLowThreshold, type SegmentationParamsInput } from "../domain/segmentation-params.ts";
import { DomainError } from "../errors/domain-error.ts";
import type { AuditLog } from "../ports/audit-log.port.ts";
import type { JobRepository } from "../ports/job-repository.port.ts";
import type { ModelRegistry } from "../ports/model-registry.port.ts";
import type { ResultBus } from "../ports/result-bus.port.ts";
import type { StudyRepository } from "../ports/study-repository.port.ts";

/** Which model kind each method runs. Saliency baselines run on the classifier. */
export const MODEL_KIND_FOR_METHOD: Readonly<Record<SegmentationMethod, ModelKind>> = {
  COIN: "COIN_GENERATOR",
  SINGLA: "SINGLA_GENERATOR",
  RISE: "CLASSIFIER",
  SCORE_CAM: "CLASSIFIER",
  LAYER_CAM: "CLASSIFIER",
};

/** Slices per inference task (one queue message). */
export const SLICES_PER_TASK = 16;

/** What {@link SegmentationService.jobMaskVolume} returns: the mask voxels on the series' grid (i fastest, then j, then k). */
export interface JobMaskVolume {
  readonly job: SegmentationJob;
  readonly series: Series;
  readonly data: Uint8Array;
  /** Slices of the series with a stored result. */
  readonly slicesWithResult: number;
}

/** One update streamed by {@link SegmentationService.watchJob}. */
export interface JobUpdate {
  readonly job: SegmentationJob;
  /** The slice result this update announces, if any. */
  readonly result: SliceResult | null;
}

/** Segmentation use cases. `onTasksStored` is called after a job's tasks are committed to the outbox. */
export class SegmentationService {
  constructor(
    private readonly studies: StudyRepository,
    private readonly jobs: JobRepository,
    private readonly models: ModelRegistry,
    private readonly bus: ResultBus,
    private readonly audit: AuditLog,
    private readonly onTasksStored: () => void = () => {},
  ) {}

  /**
   * Creates a QUEUED job for the given slices (default: every slice of the study) and stores its
   * tasks in the outbox in the same transaction. Role: ANNOTATOR.
   * @throws NOT_FOUND (study or slice), STUDY_HAS_NO_SLICES, UNKNOWN_MODEL, BAD_USER_INPUT (a slice
   *   listed twice; params that break core/domain/segmentation-params.ts, or `refine` without a
   *   lower threshold for the model). Nothing is stored on error.
   */
  async requestSegmentation(
    principal: Principal | null,
    input: { studyId: string; method: SegmentationMethod; modelKey?: string | null; sliceIds?: readonly string[] | null; params?: Record<string, unknown> | null },
  ): Promise<SegmentationJob> {
    const p = authorize(principal, "ANNOTATOR");
    const study = isUuid(input.studyId) ? await this.studies.findStudy(p.organizationId, input.studyId) : null;
    if (!study) throw new DomainError("NOT_FOUND", "study not found", { entity: "Study" });
    const all = (await this.studies.slicesByStudy(p.organizationId, [study.id])).get(study.id) ?? [];
    let sliceIds: string[];
    if (input.sliceIds && input.sliceIds.length > 0) {
      const inStudy = new Set(all.map((s) => s.id));
      if (new Set(input.sliceIds).size !== input.sliceIds.length) throw new DomainError("BAD_USER_INPUT", "a slice is listed twice", { field: "slices" });
      for (const id of input.sliceIds) if (!inStudy.has(id)) throw new DomainError("NOT_FOUND", "slice not found", { entity: "Slice" });
      sliceIds = [...input.sliceIds];
    } else {
      sliceIds = all.map((s) => s.id);
    }
    if (sliceIds.length === 0) throw new DomainError("STUDY_HAS_NO_SLICES", "the study has no slices; import pixels first");
    const checked = checkSegmentationParams(input.params);
    if (!checked.ok) throw new DomainError("BAD_USER_INPUT", `invalid params: ${checked.problems.join("; ")}`, { field: "params" });
    const model = await this.resolveModel(input.method, input.modelKey ?? null);
    const params = input.params ?? {};
    const refineProblem = refinementProblem(input.method, model, checked.params);
    if (refineProblem) throw new DomainError("BAD_USER_INPUT", `invalid params: ${refineProblem}`, { field: "params" });
    const job = await this.jobs.createWithTasks(
      { organizationId: p.organizationId, studyId: study.id, method: input.method, modelKey: model.key, params, totalSlices: sliceIds.length, createdById: p.userId },
      (jobId) => chunk(sliceIds, SLICES_PER_TASK).map((ids): InferenceTaskV1 => ({
        schemaVersion: 1, taskId: randomUUID(), jobId, organizationId: p.organizationId, studyId: study.id,
        sliceIds: ids, method: input.method, modelKey: model.key, params,
      })),
    );
    await this.audit.record({ organizationId: p.organizationId, actorId: p.userId, action: "job.request", entityType: "SegmentationJob", entityId: job.id, data: { method: job.method, modelKey: job.modelKey, slices: job.totalSlices } });
    this.onTasksStored();
    return job;
  }

  /** Cancels a QUEUED or RUNNING job. Role: ANNOTATOR. @throws NOT_FOUND, INVALID_STATE */
  async cancelJob(principal: Principal | null, jobId: string): Promise<SegmentationJob> {
    const p = authorize(principal, "ANNOTATOR");
    const job = await this.getJob(p, jobId);
    const cancelled = await this.jobs.finish(p.organizationId, job.id, "CANCELLED", null);
    if (!cancelled) throw new DomainError("INVALID_STATE", `a ${job.status} job cannot be cancelled`, { status: job.status });
    await this.bus.publish(statusEvent(cancelled));
    await this.audit.record({ organizationId: p.organizationId, actorId: p.userId, action: "job.cancel", entityType: "SegmentationJob", entityId: job.id });
    return cancelled;
  }

  /** One job, or NOT_FOUND. Role: VIEWER. */
  async getJob(principal: Principal | null, jobId: string): Promise<SegmentationJob> {
    const p = authorize(principal, "VIEWER");
    const job = isUuid(jobId) ? await this.jobs.findJob(p.organizationId, jobId) : null;
    if (!job) throw new DomainError("NOT_FOUND", "segmentation job not found", { entity: "SegmentationJob" });
    return job;
  }

  /**
   * A job's masks as a label volume on one series' grid, for download: voxel (i, j, k) is 1 where
   * the result of the series' slice k has pixel (row j, column i) in its mask, and 0 elsewhere and on
   * slices without a stored result (not segmented, failed, or not yet done). Role: VIEWER.
   * `seriesId` may be omitted when the job's study has one series.
   * @throws NOT_FOUND (job, series of the job's study), BAD_USER_INPUT (no `seriesId` for a study
   *   of several series)
   */
  async jobMaskVolume(principal: Principal | null, jobId: string, seriesId: string | null): Promise<JobMaskVolume> {
    const p = authorize(principal, "VIEWER");
    const job = await this.getJob(p, jobId);
    const all = (await this.studies.seriesByStudy(p.organizationId, [job.studyId])).get(job.studyId) ?? [];
    let series: Series | undefined;
    if (seriesId === null) {
      if (all.length > 1) throw new DomainError("BAD_USER_INPUT", `the study has ${all.length} series: name one`, { field: "series" });
      series = all[0];
    } else {
      series = all.find((s) => s.id === seriesId);
    }
    if (!series) throw new DomainError("NOT_FOUND", "series not found", { entity: "Series" });
    const [nx, ny, nz] = series.dimsIJK;
    const sliceIndexOf = new Map(
      ((await this.studies.slicesByStudy(p.organizationId, [job.studyId])).get(job.studyId) ?? []).filter((s) => s.seriesId === series.id).map((s) => [s.id, s.sliceIndex]),
    );
    const results = await this.jobs.resultsAfter(p.organizationId, job.id, -1);
    const data = new Uint8Array(nx * ny * nz);
    let slicesWithResult = 0;
    for (const r of results) {
      const k = sliceIndexOf.get(r.sliceId);
      if (k === undefined) continue;
      if (r.width !== nx || r.height !== ny) throw new Error(`result of slice ${k} is ${r.width}×${r.height}, the series ${nx}×${ny}`);
      data.set(decodeRle(r.maskRle, nx * ny), k * nx * ny);
      slicesWithResult++;
    }
    return { job, series, data, slicesWithResult };
  }

  /**
   * Batch read of results per job (role VIEWER): for each job id, its results with sliceIndex >
   * the given value, in sliceIndex order. Ids that are not UUIDs or not the caller's are absent.
   */
  async resultsByJob(principal: Principal | null, afterSliceIndexByJob: ReadonlyMap<string, number>): Promise<Map<string, SliceResult[]>> {
    const p = authorize(principal, "VIEWER");
    const valid = new Map([...afterSliceIndexByJob].filter(([jobId]) => isUuid(jobId)));
    return this.jobs.resultsAfterByJob(p.organizationId, valid);
  }

  /** Batch read of jobs per study (role VIEWER). */
  async jobsByStudy(principal: Principal | null, studyIds: readonly string[]): Promise<Map<string, SegmentationJob[]>> {
    return this.jobs.jobsByStudy(authorize(principal, "VIEWER").organizationId, studyIds);
  }

  /** Batch read of results per slice (role VIEWER). */
  async resultsBySlice(principal: Principal | null, sliceIds: readonly string[]): Promise<Map<string, SliceResult[]>> {
    return this.jobs.resultsBySlice(authorize(principal, "VIEWER").organizationId, sliceIds);
  }

  /** Registered models. Role: VIEWER. */
  async listModels(principal: Principal | null): Promise<ModelEntry[]> {
    authorize(principal, "VIEWER");
    return this.models.list();
  }

  /**
   * Streams a job: first its current state, then every stored result with sliceIndex >
   * `afterSliceIndex` (so a client resumes after a reconnect by passing the last index it saw),
   * then live updates until the job reaches a terminal status. Role: VIEWER.
   * @throws NOT_FOUND before the first update when the job is not the caller's.
   */
  async watchJob(principal: Principal | null, jobId: string, afterSliceIndex: number, signal?: AbortSignal): Promise<AsyncIterable<JobUpdate>> {
    const p = authorize(principal, "VIEWER");
    await this.getJob(p, jobId);
    // Subscribe before reading the snapshot so no event falls in between; duplicates are dropped below.
    const pending: JobEventV1[] = [];
    let wake: (() => void) | null = null;
    const unsubscribe = this.bus.subscribe(jobId, (event) => {
      if (event.organizationId !== p.organizationId) return;
      pending.push(event);
      wake?.();
    });
    const jobs = this.jobs;
    const onAbort = () => wake?.();
    signal?.addEventListener("abort", onAbort);
    async function* stream(): AsyncGenerator<JobUpdate> {
      try {
        let job = (await jobs.findJob(p.organizationId, jobId))!;
        const seen = new Set<string>();
        yield { job, result: null };
        for (const result of await jobs.resultsAfter(p.organizationId, jobId, afterSliceIndex)) {
          seen.add(result.sliceId);
          yield { job, result };
        }
        while (!isTerminalJobStatus(job.status) && !signal?.aborted) {
          const event = pending.shift();
          if (!event) {
            await new Promise<void>((resolve) => (wake = resolve));
            wake = null;
            continue;
          }
          if (event.kind === "SLICE_RESULT") {
            if (seen.has(event.result.sliceId) || event.result.sliceIndex <= afterSliceIndex) continue;
            seen.add(event.result.sliceId);
            if (event.progress && job.startedAt) {
              // The counts travel with the event: no read per result. Counts only grow, and events of
              // different workers may arrive out of order, so the larger count wins.
              job = {
                ...job,
                completedSlices: Math.max(job.completedSlices, event.progress.completedSlices),
                failedSlices: Math.max(job.failedSlices, event.progress.failedSlices),
              };
            } else {
              // An older publisher's event (no counts), or the job was QUEUED at the snapshot (so its
              // startedAt is unknown here): fresh counts from the database, but the status only moves
              // with STATUS events: the database may already say SUCCEEDED while this job's last
              // SLICE_RESULT events are still on their way.
              const fresh = await jobs.findJob(p.organizationId, jobId);
              if (fresh) job = { ...fresh, status: job.status, errorCode: job.errorCode, finishedAt: job.finishedAt };
            }
            yield { job, result: event.result };
          } else {
            // A STATUS event carries the counts of its publisher's last write, which another worker's
            // results (already delivered) may have overtaken: counts only grow, the larger wins.
            const next = {
              ...job, status: event.status, errorCode: event.errorCode,
              completedSlices: Math.max(job.completedSlices, event.completedSlices),
              failedSlices: Math.max(job.failedSlices, event.failedSlices),
            };
            if (isTerminalJobStatus(next.status)) {
              // Another worker's last SLICE_RESULT may still be in flight (events from different
              // publishers are not ordered): deliver every stored result not yet sent before the end.
              for (const result of await jobs.resultsAfter(p.organizationId, jobId, afterSliceIndex)) {
                if (seen.has(result.sliceId)) continue;
                seen.add(result.sliceId);
                yield { job, result };
              }
            }
            job = next;
            yield { job, result: null };
          }
        }
      } finally {
        unsubscribe();
        signal?.removeEventListener("abort", onAbort);
      }
    }
    return stream();
  }

  private async resolveModel(method: SegmentationMethod, modelKey: string | null): Promise<ModelEntry> {
    const kind = MODEL_KIND_FOR_METHOD[method];
    if (modelKey) {
      const model = await this.models.findByKey(modelKey);
      if (!model || model.kind !== kind) throw new DomainError("UNKNOWN_MODEL", `no ${kind} model with key ${modelKey}`, { field: "modelKey" });
      return model;
    }
    const model = (await this.models.list()).find((m) => m.kind === kind);
    if (!model) throw new DomainError("UNKNOWN_MODEL", `no ${kind} model is registered`, { field: "modelKey" });
    return model;
  }
}

/**
 * What the model makes wrong in `refine` params (the worker's rule, `refinementLowThreshold`, on the
 * raw model.json with the defaults of DESIGN.md §1), or null.
 */
function refinementProblem(method: SegmentationMethod, model: ModelEntry, params: SegmentationParamsInput): string | null {
  const thresholds = (model.spec.thresholds ?? {}) as Record<string, unknown>;
  const num = (v: unknown, fallback?: number): number | undefined => (typeof v === "number" ? v : fallback);
  const counterfactual = method === "COIN" || method === "SINGLA";
  const upper = counterfactual ? params.maskThreshold ?? num(thresholds.mask, 0.25) : params.saliencyThreshold ?? num(thresholds.saliency, 0.975);
  const result = refinementLowThreshold(params, num(thresholds.hysteresis), upper);
  return "problem" in result ? `${result.problem} (model ${model.key})` : null;
}

/** The STATUS event announcing a job's current state. */
export function statusEvent(job: SegmentationJob): JobEventV1 {
  return {
    schemaVersion: 1, kind: "STATUS", organizationId: job.organizationId, jobId: job.id, status: job.status,
    completedSlices: job.completedSlices, failedSlices: job.failedSlices, totalSlices: job.totalSlices, errorCode: job.errorCode,
  };
}

function chunk<T>(items: readonly T[], size: number): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += size) out.push(items.slice(i, i + size));
  return out;
}
