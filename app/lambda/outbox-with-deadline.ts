// Bounds how long a relay keeps draining: the Lambdas must answer (and stop) before their timeouts.
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";

/**
 * An {@link Outbox} that claims nothing once `deadline` (epoch ms, by `clock`) has passed, so
 * `OutboxRelay.drain()` stops after the batch in hand. Rows left over stay undispatched and
 * unclaimed for the next relay; none is lost (marks still go through).
 */
export class OutboxWithDeadline implements Outbox {
  constructor(
    private readonly outbox: Outbox,
    private readonly deadline: number,
    private readonly clock: () => number = Date.now,
  ) {}

  /** True once the deadline has passed. */
  get expired(): boolean {
    return this.clock() >= this.deadline;
  }

  async claim(limit: number): Promise<OutboxMessage[]> {
    return this.expired ? [] : this.outbox.claim(limit);
  }

  markDispatched(ids: readonly string[]): Promise<void> {
    return this.outbox.markDispatched(ids);
  }

  markAttemptFailed(ids: readonly string[]): Promise<void> {
    return this.outbox.markAttemptFailed(ids);
  }

  release(ids: readonly string[]): Promise<void> {
    return this.outbox.release(ids);
  }
}
