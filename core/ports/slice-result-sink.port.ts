// What an inference worker needs to record progress: the write side of segmentation jobs.
import type { JobStatus } from "../domain/enums.ts";
import type { SegmentationJob } from "../domain/segmentation-job.ts";
import type { SliceResult, SliceResultInput } from "../domain/slice-result.ts";

/**
 * Idempotent writes a worker makes while it processes an InferenceTaskV1. Every method is safe to
 * call twice with the same arguments (SQS delivers at least once).
 */
export interface SliceResultSink {
  /** QUEUED → RUNNING (sets startedAt). Returns the job, or null when it is no longer QUEUED/RUNNING (e.g. cancelled). */
  markRunning(organizationId: string, jobId: string): Promise<SegmentationJob | null>;
  /**
   * Stores one slice's result (unique per job and slice) and increments completedSlices only the
   * first time. Returns the stored result and whether it was new.
   * @throws INVALID_STATE when the job is no longer QUEUED/RUNNING (cancelled or finished): nothing is stored.
   */
  saveResult(organizationId: string, result: SliceResultInput): Promise<{ result: SliceResult; created: boolean }>;
  /** Counts a slice that failed permanently (increments failedSlices). */
  recordSliceFailure(organizationId: string, jobId: string, sliceId: string, errorCode: string): Promise<void>;
  /**
   * Moves the job to a terminal status when the transition is allowed (conditional update).
   * Returns the job after the call, or null when the transition was not allowed.
   */
  finish(organizationId: string, jobId: string, status: Extract<JobStatus, "SUCCEEDED" | "FAILED" | "CANCELLED">, errorCode?: string | null): Promise<SegmentationJob | null>;
}
