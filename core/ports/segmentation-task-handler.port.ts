// The inference worker's entry point, implemented in workers/ (the ONNX pipeline).
import type { InferenceTaskV1 } from "../domain/inference-task.ts";

/**
 * Processes one {@link InferenceTaskV1}: for each slice id it loads the pixels, runs the method
 * and records the outcome. Contract:
 * - call `SliceResultSink.markRunning` first; stop (and return) when it returns null (cancelled or
 *   finished); otherwise publish a `STATUS` event with the returned job (see `statusEvent` in
 *   core/services/segmentation.service.ts);
 * - write each slice through `SliceResultSink.saveResult` and publish a `SLICE_RESULT` event on the
 *   `ResultBus` with the stored result (only when `created` is true, to avoid duplicates);
 * - when every slice of the job is accounted for (completedSlices + failedSlices = totalSlices; a
 *   job's slices may be spread over several tasks and workers), `finish` it and publish its
 *   `STATUS` event; `finish` is a conditional update, so exactly one caller gets the job back;
 * - throw a DomainError with a permanent code (UNKNOWN_MODEL, imaging codes) to fail the task for good;
 *   any other error means "retry" (the queue redelivers).
 * It must be idempotent: the same task may arrive twice.
 */
export interface SegmentationTaskHandler {
  handle(task: InferenceTaskV1): Promise<void>;
}
