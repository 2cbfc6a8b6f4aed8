// What the worker runtime needs from a message queue (adapters/sqs/sqs-task-consumer.ts implements it on SQS).

/** One received message. */
export interface ReceivedTaskMessage {
  /** The queue's message id (for logs). */
  readonly messageId: string;
  /** Opaque handle for ack / visibility calls. */
  readonly receiptHandle: string;
  readonly body: string;
  /** How many times the queue has handed this message out, this receive included (1 = first). */
  readonly receiveCount: number;
  /** When the producer sent it (ms since epoch), for queue lag. */
  readonly sentAtMs: number;
}

/** A queue that hands out messages with a visibility timeout (at-least-once delivery). */
export interface TaskMessageSource {
  /** Visibility timeout the source applies on receive, in seconds. */
  readonly visibilityTimeoutSeconds: number;
  /** Receives after this many receives go to the dead-letter queue instead (the queue's redrive policy). */
  readonly maxReceiveCount: number;
  /** Long-polls for at most `max` messages; resolves with [] when `signal` aborts. */
  receive(max: number, signal: AbortSignal): Promise<ReceivedTaskMessage[]>;
  /** Deletes the message (only after its results are committed). */
  ack(message: ReceivedTaskMessage): Promise<void>;
  /** Sets the message's remaining invisibility to `seconds` from now (0 = visible again now). */
  setVisibility(message: ReceivedTaskMessage, seconds: number): Promise<void>;
}
