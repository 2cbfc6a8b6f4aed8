// A view of the outbox limited to one job's rows, or to rows older than a cut-off (serverless relays).
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";
import type { Db } from "./prisma-client.ts";
import { PrismaOutbox } from "./prisma-outbox.ts";

/** Which undispatched rows a {@link PrismaScopedOutbox} returns. Both fields may be combined. */
export interface OutboxScope {
  /** Only the tasks of this job (the `jobId` of the InferenceTaskV1 payload) in this organisation. */
  readonly job?: { readonly organizationId: string; readonly jobId: string };
  /** Only rows created before this instant, evaluated at each `pending` call. */
  readonly createdBefore?: () => Date;
}

/**
 * {@link Outbox} that sees a subset of the pending rows, so that several relays do not all send the
 * same fresh rows: the API Lambda relays the job it just stored (scope `job`), the scheduled relay
 * only what is older than the API needs to send its own (scope `createdBefore`). Marking is shared
 * with {@link PrismaOutbox}.
 */
export class PrismaScopedOutbox implements Outbox {
  private readonly marks: PrismaOutbox;

  constructor(private readonly db: Db, private readonly scope: OutboxScope) {
    this.marks = new PrismaOutbox(db);
  }

  async pending(limit: number): Promise<OutboxMessage[]> {
    const { job, createdBefore } = this.scope;
    const rows = await this.db.outboxMessage.findMany({
      where: {
        dispatchedAt: null,
        ...(job ? { organizationId: job.organizationId, payload: { path: ["jobId"], equals: job.jobId } } : {}),
        ...(createdBefore ? { createdAt: { lt: createdBefore() } } : {}),
      },
      orderBy: [{ createdAt: "asc" }, { id: "asc" }],
      take: limit,
    });
    return rows.map((r) => ({ id: r.id, organizationId: r.organizationId, topic: r.topic, payload: r.payload, attempts: r.attempts }));
  }

  markDispatched(id: string): Promise<void> {
    return this.marks.markDispatched(id);
  }

  markAttemptFailed(id: string): Promise<void> {
    return this.marks.markAttemptFailed(id);
  }
}
