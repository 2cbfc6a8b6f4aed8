// Placeholder SegmentationTaskHandler used until the inference worker (workers/) is wired in.
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { SegmentationTaskHandler } from "../../core/ports/segmentation-task-handler.port.ts";

/** Accepts tasks and does nothing, so jobs stay QUEUED. `received` lists the tasks seen. */
export class LeaveQueuedTaskHandler implements SegmentationTaskHandler {
  readonly received: InferenceTaskV1[] = [];

  async handle(task: InferenceTaskV1): Promise<void> {
    this.received.push(task);
  }
}
