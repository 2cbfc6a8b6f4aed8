// AuditLog on Prisma (append-only AuditEvent rows).
import type { AuditEntry, AuditLog } from "../../core/ports/audit-log.port.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";

/** {@link AuditLog} backed by Prisma. */
export class PrismaAuditLog implements AuditLog {
  constructor(private readonly db: Db) {}

  async record(entry: AuditEntry): Promise<void> {
    await this.db.auditEvent.create({
      data: {
        organizationId: entry.organizationId, actorId: entry.actorId, action: entry.action, entityType: entry.entityType,
        entityId: entry.entityId, data: (entry.data ?? {}) as Prisma.InputJsonValue,
      },
    });
  }
}
