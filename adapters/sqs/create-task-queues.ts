// Creates (or finds) the task queue and its dead-letter queue with the redrive policy of PROTOCOL.md.
import { CreateQueueCommand, GetQueueAttributesCommand, type SQSClient } from "@aws-sdk/client-sqs";

/** URLs of a task queue and its dead-letter queue. */
export interface TaskQueueUrls {
  readonly queueUrl: string;
  readonly deadLetterQueueUrl: string;
}

/**
 * Idempotently creates `<name>-dlq` and `<name>` with RedrivePolicy maxReceiveCount (default 3).
 * For local endpoints and tests; in AWS the queues come from infra/.
 */
export async function createTaskQueues(client: SQSClient, name: string, options: { visibilityTimeoutSeconds: number; maxReceiveCount?: number }): Promise<TaskQueueUrls> {
  const dlq = await client.send(new CreateQueueCommand({ QueueName: `${name}-dlq`, Attributes: { MessageRetentionPeriod: "1209600" } }));
  const dlqAttrs = await client.send(new GetQueueAttributesCommand({ QueueUrl: dlq.QueueUrl!, AttributeNames: ["QueueArn"] }));
  const queue = await client.send(new CreateQueueCommand({
    QueueName: name,
    Attributes: {
      VisibilityTimeout: String(options.visibilityTimeoutSeconds),
      RedrivePolicy: JSON.stringify({ deadLetterTargetArn: dlqAttrs.Attributes!.QueueArn, maxReceiveCount: options.maxReceiveCount ?? 3 }),
    },
  }));
  return { queueUrl: queue.QueueUrl!, deadLetterQueueUrl: dlq.QueueUrl! };
}
