// TaskQueue on SQS: one InferenceTaskV1 per message, up to 10 messages per SendMessageBatch.
import { SendMessageBatchCommand, SendMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";

/** SQS accepts at most 10 entries per SendMessageBatch. */
export const SQS_MAX_BATCH_ENTRIES = 10;

/** Message attribute naming the contract of the body (PROTOCOL.md). */
export const SCHEMA_ATTRIBUTE = "coinseg-schema";
/** Value of {@link SCHEMA_ATTRIBUTE} for {@link InferenceTaskV1}. */
export const INFERENCE_TASK_SCHEMA = "inference-task.v1";

/** Thrown for an entry SQS refused in a batch (its `code` is SQS's, e.g. InternalError). */
export class SqsEntryError extends Error {
  override readonly name = "SqsEntryError";
  constructor(readonly code: string, message: string, readonly senderFault: boolean) {
    super(message);
  }
}

/**
 * {@link TaskQueue} on an SQS standard queue. The body is the task as JSON; the outbox message id
 * (= taskId) is the batch entry id, so a partial failure names the outbox rows to retry.
 */
export class SqsTaskQueue implements TaskQueue {
  constructor(private readonly client: SQSClient, private readonly queueUrl: string) {}

  async send(task: InferenceTaskV1): Promise<void> {
    await this.client.send(new SendMessageCommand({ QueueUrl: this.queueUrl, MessageBody: JSON.stringify(task), MessageAttributes: attributes() }));
  }

  async sendBatch(tasks: readonly InferenceTaskV1[]): Promise<{ failed: { taskId: string; error: unknown }[] }> {
    const failed: { taskId: string; error: unknown }[] = [];
    for (let start = 0; start < tasks.length; start += SQS_MAX_BATCH_ENTRIES) {
      const chunk = tasks.slice(start, start + SQS_MAX_BATCH_ENTRIES);
      // Entry ids must be unique within a request and ≤ 80 chars of [A-Za-z0-9_-]: a UUID qualifies.
      const out = await this.client.send(new SendMessageBatchCommand({
        QueueUrl: this.queueUrl,
        Entries: chunk.map((task) => ({ Id: task.taskId, MessageBody: JSON.stringify(task), MessageAttributes: attributes() })),
      }));
      for (const f of out.Failed ?? []) {
        failed.push({ taskId: f.Id ?? "", error: new SqsEntryError(f.Code ?? "Unknown", f.Message ?? "SendMessageBatch entry failed", f.SenderFault ?? false) });
      }
    }
    return { failed };
  }
}

function attributes() {
  return { [SCHEMA_ATTRIBUTE]: { DataType: "String", StringValue: INFERENCE_TASK_SCHEMA } };
}
