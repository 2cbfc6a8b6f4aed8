// Forwards committed outbox messages to the TaskQueue (the second half of the transactional outbox).
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../domain/inference-task.ts";
import type { Outbox, OutboxMessage } from "../ports/outbox.port.ts";
import type { TaskQueue } from "../ports/task-queue.port.ts";

/**
 * Drains the outbox: each pending message is sent to the queue, then marked dispatched. A crash
 * between the two re-sends the message later (at-least-once; handlers are idempotent).
 * `kick()` schedules a drain; concurrent kicks coalesce into one running drain plus one follow-up.
 */
export class OutboxRelay {
  private running: Promise<void> | null = null;
  private again = false;

  constructor(
    private readonly outbox: Outbox,
    private readonly queue: TaskQueue,
    private readonly onError: (error: unknown) => void = () => {},
    private readonly batchSize = 100,
  ) {}

  /** Starts a drain unless one is running (then one more follows it). Never rejects. */
  kick(): Promise<void> {
    if (this.running) {
      this.again = true;
      return this.running;
    }
    this.running = (async () => {
      try {
        do {
          this.again = false;
          await this.drain();
        } while (this.again);
      } catch (error) {
        this.onError(error);
      } finally {
        this.running = null;
      }
    })();
    return this.running;
  }

  /** Sends every pending message once; returns how many were dispatched. */
  async drain(): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await this.outbox.pending(this.batchSize);
      if (batch.length === 0) return sent;
      if (this.queue.sendBatch) {
        sent += await this.sendInBatches(batch);
        if (batch.length < this.batchSize) return sent;
        continue;
      }
      for (const message of batch) {
        try {
          if (message.topic === INFERENCE_TASK_TOPIC) await this.queue.send(message.payload as InferenceTaskV1);
          await this.outbox.markDispatched(message.id);
          sent++;
        } catch (error) {
          await this.outbox.markAttemptFailed(message.id);
          throw error;
        }
      }
      if (batch.length < this.batchSize) return sent;
    }
  }

  /**
   * Batch path (queues with `sendBatch`, e.g. SQS SendMessageBatch): accepted tasks are marked
   * dispatched, rejected ones get a failed attempt; the first rejection is rethrown after the batch.
   */
  private async sendInBatches(batch: readonly OutboxMessage[]): Promise<number> {
    const tasks = batch.filter((m) => m.topic === INFERENCE_TASK_TOPIC).map((m) => m.payload as InferenceTaskV1);
    let failed: { taskId: string; error: unknown }[];
    try {
      failed = (await this.queue.sendBatch!(tasks)).failed;
    } catch (error) {
      for (const message of batch) await this.outbox.markAttemptFailed(message.id);
      throw error;
    }
    const failedIds = new Set(failed.map((f) => f.taskId));
    let sent = 0;
    for (const message of batch) {
      const taskId = message.topic === INFERENCE_TASK_TOPIC ? (message.payload as InferenceTaskV1).taskId : null;
      if (taskId !== null && failedIds.has(taskId)) {
        await this.outbox.markAttemptFailed(message.id);
      } else {
        await this.outbox.markDispatched(message.id);
        sent++;
      }
    }
    if (failed.length > 0) throw failed[0]!.error;
    return sent;
  }
}
