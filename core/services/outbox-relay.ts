// Forwards committed outbox messages to the TaskQueue (the second half of the transactional outbox).
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../domain/inference-task.ts";
import type { Outbox } from "../ports/outbox.port.ts";
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
}
