// Read side of the transactional outbox, used by the relay that forwards messages to the TaskQueue.

/** An undelivered outbox message. */
export interface OutboxMessage {
  readonly id: string;
  readonly organizationId: string;
  readonly topic: string;
  readonly payload: unknown;
  readonly attempts: number;
}

/** Outbox access (adapters/prisma/prisma-outbox.ts). */
export interface Outbox {
  /** Oldest undispatched messages first, at most `limit`. */
  pending(limit: number): Promise<OutboxMessage[]>;
  markDispatched(id: string): Promise<void>;
  markAttemptFailed(id: string): Promise<void>;
}
