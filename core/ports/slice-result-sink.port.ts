// What an inference worker needs to record progress: the write side of segmentation jobs.
import type { JobStatus } from "../domain/enums.ts";
import type { SegmentationJob } from "../domain/segmentation-job.ts";
import type { SliceResult, SliceResultInput } from "../domain/slice-result.ts";

/** A job's status and counts as one write left them (the write's own increment included). */
export type JobProgress = Pick<SegmentationJob, "status" | "completedSlices" | "failedSlices" | "totalSlices">;

/** Outcome of {@link SliceResultSink.saveResults}: one entry per input, in input order, and the job's counts after the write. */
export interface SavedSliceResults {
  /** `created` is false when (jobId, sliceId) was already stored: `result` is then the stored row. */
  readonly results: readonly { readonly result: SliceResult; readonly created: boolean }[];
  readonly progress: JobProgress;
}

/**
 * Idempotent writes a worker makes while it processes an InferenceTaskV1. Every method is safe to
 * call twice with the same arguments (SQS delivers at least once).
 */
export interface SliceResultSink {
  /** QUEUED → RUNNING (sets startedAt). Returns the job, or null when it is no longer QUEUED/RUNNING (e.g. cancelled). */
  markRunning(organizationId: string, jobId: string): Promise<SegmentationJob | null>;
  /**
   * Stores one slice's result (unique per job and slice) and increments completedSlices only the
   * first time. Returns the stored result and whether it was new. Same as `saveResults` with one input.
   * @throws INVALID_STATE when the job is no longer QUEUED/RUNNING (cancelled or finished): nothing is stored.
   * @throws NOT_FOUND when the job or the slice is not the organisation's.
   */
  saveResult(organizationId: string, result: SliceResultInput): Promise<{ result: SliceResult; created: boolean }>;
  /**
   * Stores a batch of one job's results atomically, in one round trip where the store allows: each
   * (jobId, sliceId) at most once, completedSlices incremented once by the number of new rows, under
   * the same job-row lock a cancel takes (so nothing is stored once a cancel has committed).
   * Every input's `jobId` must equal `jobId` and its slice ids must be distinct (RangeError otherwise).
   * @throws INVALID_STATE when the job is no longer QUEUED/RUNNING: nothing of the batch is stored.
   * @throws NOT_FOUND when the job or any slice is not the organisation's: nothing of the batch is stored.
   */
  saveResults(organizationId: string, jobId: string, results: readonly SliceResultInput[]): Promise<SavedSliceResults>;
  /** Counts a slice that failed permanently (increments failedSlices). */
  recordSliceFailure(organizationId: string, jobId: string, sliceId: string, errorCode: string): Promise<void>;
  /**
   * Moves the job to a terminal status when the transition is allowed (conditional update).
   * Returns the job after the call, or null when the transition was not allowed.
   */
  finish(organizationId: string, jobId: string, status: Extract<JobStatus, "SUCCEEDED" | "FAILED" | "CANCELLED">, errorCode?: string | null): Promise<SegmentationJob | null>;
}
