// The SQS task queue for InferenceTaskV1 messages, with its dead-letter queue.
import { Duration } from "aws-cdk-lib";
import * as sqs from "aws-cdk-lib/aws-sqs";
import { Construct } from "constructs";

/** Parameters of {@link TaskQueue}. */
export interface TaskQueueProps {
  /** Seconds; the workers receive with the same value and heartbeat every half of it. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives before dead-lettering (DESIGN.md §6: 3). */
  readonly maxReceiveCount: number;
  readonly retentionDays: number;
}

/**
 * Standard (at-least-once) queue, SQS-managed encryption, TLS-only; after `maxReceiveCount`
 * receives a message moves to the dead-letter queue, which keeps it 14 days for inspection.
 */
export class TaskQueue extends Construct {
  /** The inference task queue. */
  readonly queue: sqs.Queue;
  /** Where poison messages land. */
  readonly deadLetterQueue: sqs.Queue;

  constructor(scope: Construct, id: string, props: TaskQueueProps) {
    super(scope, id);
    this.deadLetterQueue = new sqs.Queue(this, "DeadLetter", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: Duration.days(14),
    });
    this.queue = new sqs.Queue(this, "Tasks", {
      encryption: sqs.QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      visibilityTimeout: Duration.seconds(props.visibilityTimeoutSeconds),
      retentionPeriod: Duration.days(props.retentionDays),
      // Long polling by default, so idle workers do not pay for empty receives.
      receiveMessageWaitTime: Duration.seconds(20),
      deadLetterQueue: { queue: this.deadLetterQueue, maxReceiveCount: props.maxReceiveCount },
    });
  }
}
