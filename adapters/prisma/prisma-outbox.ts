// Outbox on Prisma (OutboxMessage rows written by PrismaJobRepository.createWithTasks).
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";
import type { Db } from "./prisma-client.ts";

/** {@link Outbox} backed by Prisma. */
export class PrismaOutbox implements Outbox {
  constructor(private readonly db: Db) {}

  async pending(limit: number): Promise<OutboxMessage[]> {
    const rows = await this.db.outboxMessage.findMany({ where: { dispatchedAt: null }, orderBy: [{ createdAt: "asc" }, { id: "asc" }], take: limit });
    return rows.map((r) => ({ id: r.id, organizationId: r.organizationId, topic: r.topic, payload: r.payload, attempts: r.attempts }));
  }

  async markDispatched(id: string): Promise<void> {
    await this.db.outboxMessage.update({ where: { id }, data: { dispatchedAt: new Date() } });
  }

  async markAttemptFailed(id: string): Promise<void> {
    await this.db.outboxMessage.update({ where: { id }, data: { attempts: { increment: 1 } } });
  }
}
