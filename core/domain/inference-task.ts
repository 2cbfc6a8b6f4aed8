// The queue message that asks a worker to segment slices (versioned contract).
import type { SegmentationMethod } from "./enums.ts";

/**
 * Inference task, schema version 1. Sent through the outbox to the TaskQueue; a worker computes a
 * SliceResult for each slice id and reports through SliceResultSink / ResultBus.
 * Handlers must be idempotent: the queue delivers at least once.
 */
export interface InferenceTaskV1 {
  readonly schemaVersion: 1;
  /** Unique per task; equal to the outbox message id. */
  readonly taskId: string;
  readonly jobId: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly sliceIds: readonly string[];
  readonly method: SegmentationMethod;
  readonly modelKey: string;
  readonly params: Readonly<Record<string, unknown>>;
}

/** Outbox/queue topic of {@link InferenceTaskV1}. */
export const INFERENCE_TASK_TOPIC = "inference-task.v1";
