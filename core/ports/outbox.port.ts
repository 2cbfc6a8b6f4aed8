// Read side of the transactional outbox, used by the relay that forwards messages to the TaskQueue.

/** An undelivered outbox message, claimed by the caller of {@link Outbox.claim}. */
export interface OutboxMessage {
  readonly id: string;
  readonly organizationId: string;
  readonly topic: string;
  readonly payload: unknown;
  readonly attempts: number;
}

/**
 * Outbox access (adapters/prisma/prisma-outbox.ts). Several relays may share one outbox: a message
 * is handed to one claimer at a time, under a lease (PROTOCOL.md §2).
 */
export interface Outbox {
  /**
   * Claims at most `limit` undispatched messages that nobody holds (never claimed, released, or
   * whose lease has expired), oldest first, atomically: concurrent claimers get disjoint sets. Each
   * stays the caller's for the adapter's lease; a caller that dies before marking it leaves it to be
   * claimed again once the lease has expired.
   */
  claim(limit: number): Promise<OutboxMessage[]>;
  /** Marks messages sent (the queue accepted them); they are never claimed again. */
  markDispatched(ids: readonly string[]): Promise<void>;
  /** Counts a failed send attempt and releases the claim, so the next claim retries them. */
  markAttemptFailed(ids: readonly string[]): Promise<void>;
  /** Releases claimed messages without counting an attempt (the relay stopped before sending them). */
  release(ids: readonly string[]): Promise<void>;
}
