// The inference worker's entry point, implemented in workers/ (the ONNX pipeline).
import type { InferenceTaskV1 } from "../domain/inference-task.ts";

/**
 * Processes one {@link InferenceTaskV1}: for each slice id it loads the pixels, runs the method
 * and records the outcome. Contract:
 * - call `SliceResultSink.markRunning` first; stop (and return) when it returns null (cancelled or
 *   finished); otherwise publish a `STATUS` event with the returned job (see `statusEvent` in
 *   core/services/segmentation.service.ts);
 * - write the results a batch of slices at a time (the worker's `WORKER_BATCH_SIZE`) with one
 *   `SliceResultSink.saveResults` call per batch (unique per job and slice; completedSlices grows
 *   once by the number of new rows; INVALID_STATE once the job is cancelled, and then no further
 *   batch is inferred); after each batch's write, publish its new results (`created` true only:
 *   a duplicate gets no event) as `SLICE_RESULT` events together, in slice order (`publishInOrder`),
 *   each with the job's `progress` counts from that write (core/domain/job-event.ts). A batch's
 *   write may overlap the next batch's inference, but writes and their events stay in order and
 *   the task returns only after its last write;
 * - record a slice whose pixels are missing or malformed with `recordSliceFailure` (the job goes on);
 * - when every slice of the job is accounted for (completedSlices + failedSlices = totalSlices, as
 *   the task's last write returned them; a job's slices may be spread over several tasks and
 *   workers), `finish` it and publish its `STATUS` event; `finish` is a conditional update, so
 *   exactly one caller gets the job back; otherwise publish a RUNNING `STATUS` with those counts;
 * - throw a DomainError with a permanent code (UNKNOWN_MODEL, imaging codes) to fail the task for good;
 *   any other error means "retry" (the queue redelivers).
 * It must be idempotent: the same task may arrive twice.
 */
export interface SegmentationTaskHandler {
  handle(task: InferenceTaskV1): Promise<void>;
}
