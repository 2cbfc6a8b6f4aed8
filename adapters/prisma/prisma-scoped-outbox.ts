// A view of the outbox limited to one job's rows, or to rows older than a cut-off (serverless relays).
import type { OutboxMessage } from "../../core/ports/outbox.port.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";
import { PrismaOutbox, type PrismaOutboxOptions } from "./prisma-outbox.ts";

/** Which undispatched rows a {@link PrismaScopedOutbox} claims. Both fields may be combined. */
export interface OutboxScope {
  /** Only the tasks of this job (the `jobId` of the InferenceTaskV1 payload) in this organisation. */
  readonly job?: { readonly organizationId: string; readonly jobId: string };
  /** Only rows created before this instant, evaluated at each `claim` call. */
  readonly createdBefore?: () => Date;
}

/**
 * {@link PrismaOutbox} that claims only a subset of the pending rows: the API Lambda relays the job
 * it just stored (scope `job`, so it never spends its request on other jobs' backlog), the scheduled
 * relay only what is older than the API needs to send its own (scope `createdBefore`, so it sends
 * only what the API did not). Claims are the same lease as every other relay's, so a row is never
 * held by two of them at once, whatever their scopes; marking is shared.
 */
export class PrismaScopedOutbox extends PrismaOutbox {
  constructor(db: Db, private readonly scope: OutboxScope, options: PrismaOutboxOptions = {}) {
    super(db, options);
  }

  override claim(limit: number): Promise<OutboxMessage[]> {
    const { job, createdBefore } = this.scope;
    const conditions: Prisma.Sql[] = [];
    if (job) conditions.push(Prisma.sql`AND "organizationId" = ${job.organizationId}::uuid AND payload->>'jobId' = ${job.jobId}`);
    if (createdBefore) conditions.push(Prisma.sql`AND "createdAt" < ${createdBefore()}::timestamptz`);
    return this.claimWhere(limit, conditions.length === 0 ? Prisma.empty : Prisma.join(conditions, " "));
  }
}
