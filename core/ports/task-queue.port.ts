// Where inference tasks go after the outbox: an in-process queue (embedded) or SQS (services/AWS).
import type { InferenceTaskV1 } from "../domain/inference-task.ts";

/** A queue of inference tasks, delivered at least once. */
export interface TaskQueue {
  /** Sends one task. Resolves when the queue has accepted it. */
  send(task: InferenceTaskV1): Promise<void>;
  /**
   * Optional: sends many tasks in as few requests as the queue allows (SQS: 10 per SendMessageBatch).
   * Resolves with the task ids the queue did NOT accept (each with its error); every other task was accepted.
   */
  sendBatch?(tasks: readonly InferenceTaskV1[]): Promise<{ failed: { taskId: string; error: unknown }[] }>;
}
