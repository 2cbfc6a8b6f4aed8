// The worker's TaskMessageSource on SQS: long polling, receive counts, delete, visibility changes.
import { ChangeMessageVisibilityCommand, DeleteMessageCommand, ReceiveMessageCommand, type SQSClient } from "@aws-sdk/client-sqs";
import type { ReceivedTaskMessage, TaskMessageSource } from "../../workers/runtime/task-message-source.port.ts";

/** Settings of {@link SqsTaskConsumer}. Times are in seconds, as SQS counts them. */
export interface SqsTaskConsumerSettings {
  readonly queueUrl: string;
  /** Applied on every receive (overrides the queue's default). */
  readonly visibilityTimeoutSeconds: number;
  /** Long-poll wait, 0–20 s. */
  readonly waitTimeSeconds: number;
  /** The queue's redrive policy maxReceiveCount (PROTOCOL.md: 3). */
  readonly maxReceiveCount: number;
}

/** {@link TaskMessageSource} on an SQS queue. */
export class SqsTaskConsumer implements TaskMessageSource {
  readonly visibilityTimeoutSeconds: number;
  readonly maxReceiveCount: number;

  constructor(private readonly client: SQSClient, private readonly settings: SqsTaskConsumerSettings) {
    if (settings.waitTimeSeconds < 0 || settings.waitTimeSeconds > 20) throw new RangeError("waitTimeSeconds must be 0–20");
    if (settings.visibilityTimeoutSeconds < 1 || settings.visibilityTimeoutSeconds > 43200) throw new RangeError("visibilityTimeoutSeconds must be 1–43200");
    this.visibilityTimeoutSeconds = settings.visibilityTimeoutSeconds;
    this.maxReceiveCount = settings.maxReceiveCount;
  }

  async receive(max: number, signal: AbortSignal): Promise<ReceivedTaskMessage[]> {
    if (signal.aborted) return [];
    try {
      const out = await this.client.send(
        new ReceiveMessageCommand({
          QueueUrl: this.settings.queueUrl,
          MaxNumberOfMessages: Math.min(10, Math.max(1, max)),
          WaitTimeSeconds: this.settings.waitTimeSeconds,
          VisibilityTimeout: this.settings.visibilityTimeoutSeconds,
          MessageSystemAttributeNames: ["ApproximateReceiveCount", "SentTimestamp"],
          MessageAttributeNames: ["All"],
        }),
        { abortSignal: signal },
      );
      return (out.Messages ?? []).map((m) => ({
        messageId: m.MessageId ?? "",
        receiptHandle: m.ReceiptHandle ?? "",
        body: m.Body ?? "",
        receiveCount: Number(m.Attributes?.ApproximateReceiveCount ?? "1"),
        sentAtMs: Number(m.Attributes?.SentTimestamp ?? Date.now()),
      }));
    } catch (err) {
      if (signal.aborted) return [];
      throw err;
    }
  }

  async ack(message: ReceivedTaskMessage): Promise<void> {
    await this.client.send(new DeleteMessageCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.receiptHandle }));
  }

  async setVisibility(message: ReceivedTaskMessage, seconds: number): Promise<void> {
    await this.client.send(new ChangeMessageVisibilityCommand({ QueueUrl: this.settings.queueUrl, ReceiptHandle: message.receiptHandle, VisibilityTimeout: Math.round(seconds) }));
  }
}
