// TaskQueue inside one process (embedded mode): tasks run one at a time on a SegmentationTaskHandler.
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { SegmentationTaskHandler } from "../../core/ports/segmentation-task-handler.port.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";

/**
 * {@link TaskQueue} that hands tasks to `handler` in order, one at a time, in the same process.
 * A task whose handler throws is retried up to `maxAttempts` times in total, then given to `onDeadLetter`.
 * `idle()` resolves when the queue is empty (for orderly shutdown and tests).
 */
export class InMemoryTaskQueue implements TaskQueue {
  private readonly tasks: { task: InferenceTaskV1; attempts: number }[] = [];
  private draining: Promise<void> | null = null;

  constructor(
    private readonly handler: SegmentationTaskHandler,
    private readonly onDeadLetter: (task: InferenceTaskV1, error: unknown) => void = () => {},
    private readonly maxAttempts = 3,
  ) {}

  async send(task: InferenceTaskV1): Promise<void> {
    this.tasks.push({ task, attempts: 0 });
    this.kick();
  }

  private kick(): void {
    if (this.draining) return;
    this.draining = this.drain().finally(() => {
      this.draining = null;
      // A task sent after the loop's last check but before this callback would otherwise wait forever.
      if (this.tasks.length > 0) this.kick();
    });
  }

  /** Resolves once every queued task has been handled (or dead-lettered). */
  async idle(): Promise<void> {
    while (this.draining) await this.draining;
  }

  private async drain(): Promise<void> {
    // Let the caller's transaction and response finish before work starts.
    await new Promise<void>((resolve) => setImmediate(resolve));
    for (let item = this.tasks.shift(); item; item = this.tasks.shift()) {
      try {
        item.attempts++;
        await this.handler.handle(item.task);
      } catch (error) {
        if (item.attempts < this.maxAttempts) this.tasks.push(item);
        else this.onDeadLetter(item.task, error);
      }
    }
  }
}
