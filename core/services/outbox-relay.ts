// Forwards committed outbox messages to the TaskQueue (the second half of the transactional outbox).
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../domain/inference-task.ts";
import type { Outbox, OutboxMessage } from "../ports/outbox.port.ts";
import type { TaskQueue } from "../ports/task-queue.port.ts";

/**
 * Drains the outbox: claims pending messages (a lease, so concurrent relays never hold the same
 * row), sends them to the queue, then marks them dispatched. A crash between the send and the mark
 * leaves the rows claimed until their lease expires; then a relay sends them again (at-least-once;
 * handlers are idempotent). `kick()` schedules a drain; concurrent kicks coalesce into one running
 * drain plus one follow-up.
 */
export class OutboxRelay {
  private running: Promise<void> | null = null;
  private again = false;

  /** `batchSize`: messages claimed per round trip (default 100). */
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

  /**
   * Sends every message it can claim once; returns how many were dispatched. Rejects with the first
   * send error after recording it (the refused rows get a failed attempt and are released).
   */
  async drain(): Promise<number> {
    let sent = 0;
    for (;;) {
      const batch = await this.outbox.claim(this.batchSize);
      if (batch.length === 0) return sent;
      sent += this.queue.sendBatch ? await this.sendInBatches(batch) : await this.sendOneByOne(batch);
      if (batch.length < this.batchSize) return sent;
    }
  }

  /** One message after another (queues without `sendBatch`); on a failure the rest is released unsent. */
  private async sendOneByOne(batch: readonly OutboxMessage[]): Promise<number> {
    for (const [k, message] of batch.entries()) {
      try {
        if (message.topic === INFERENCE_TASK_TOPIC) await this.queue.send(message.payload as InferenceTaskV1);
      } catch (error) {
        await this.outbox.markAttemptFailed([message.id]);
        const rest = batch.slice(k + 1).map((m) => m.id);
        if (rest.length > 0) await this.outbox.release(rest);
        throw error;
      }
      await this.outbox.markDispatched([message.id]);
    }
    return batch.length;
  }

  /**
   * Batch path (queues with `sendBatch`, e.g. SQS SendMessageBatch): accepted tasks are marked
   * dispatched (one write), rejected ones get a failed attempt (one write); the first rejection is
   * rethrown after the batch.
   */
  private async sendInBatches(batch: readonly OutboxMessage[]): Promise<number> {
    const tasks = batch.filter((m) => m.topic === INFERENCE_TASK_TOPIC).map((m) => m.payload as InferenceTaskV1);
    let failed: { taskId: string; error: unknown }[];
    try {
      failed = (await this.queue.sendBatch!(tasks)).failed;
    } catch (error) {
      await this.outbox.markAttemptFailed(batch.map((m) => m.id));
      throw error;
    }
    const failedIds = new Set(failed.map((f) => f.taskId));
    const refused = batch.filter((m) => m.topic === INFERENCE_TASK_TOPIC && failedIds.has((m.payload as InferenceTaskV1).taskId));
    const refusedIds = new Set(refused.map((m) => m.id));
    const accepted = batch.filter((m) => !refusedIds.has(m.id));
    if (accepted.length > 0) await this.outbox.markDispatched(accepted.map((m) => m.id));
    if (refused.length > 0) await this.outbox.markAttemptFailed(refused.map((m) => m.id));
    if (failed.length > 0) throw failed[0]!.error;
    return accepted.length;
  }
}
