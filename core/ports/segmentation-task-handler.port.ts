// The inference worker's entry point, implemented in workers/ (the ONNX pipeline).
import type { InferenceTaskV1 } from "../domain/inference-task.ts";

/**
 * Processes one {@link InferenceTaskV1}: for each slice id it loads the pixels, runs the method
 * and records the outcome. Contract:
 * - call `SliceResultSink.markRunning` first; stop (and return) when it returns null (cancelled);
 * - write each slice through `SliceResultSink.saveResult` and publish a `SLICE_RESULT` event on the
 *   `ResultBus` with the stored result;
 * - after the last slice of the job, `finish` it and publish a `STATUS` event;
 * - throw a DomainError with a permanent code (UNKNOWN_MODEL, imaging codes) to fail the task for good;
 *   any other error means "retry" (the queue redelivers).
 * It must be idempotent: the same task may arrive twice.
 */
export interface SegmentationTaskHandler {
  handle(task: InferenceTaskV1): Promise<void>;
}
