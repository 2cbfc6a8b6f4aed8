// Append-only record of who changed what (no PHI in `data`).

/** One audit event. */
export interface AuditEntry {
  readonly organizationId: string;
  readonly actorId: string | null;
  /** Verb, e.g. `study.create`, `labels.set`, `job.cancel`. */
  readonly action: string;
  readonly entityType: string;
  readonly entityId: string;
  readonly data?: Readonly<Record<string, unknown>>;
}

/** The audit log (adapters/prisma/prisma-audit-log.ts). */
export interface AuditLog {
  record(entry: AuditEntry): Promise<void>;
}
