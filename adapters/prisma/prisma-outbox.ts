// Outbox on Prisma (OutboxMessage rows written by PrismaJobRepository.createWithTasks), claimed under a lease.
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";
import { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";

/**
 * Default lease of a claim, in milliseconds. A relay needs far less to send what it claimed (at most
 * 100 rows: 10 SendMessageBatch calls) and mark it; a relay that died holding rows delays them by
 * at most this long.
 */
export const DEFAULT_OUTBOX_LEASE_MS = 30_000;

/** Options of {@link PrismaOutbox}. */
export interface PrismaOutboxOptions {
  /** How long a claim holds its rows, in milliseconds (default {@link DEFAULT_OUTBOX_LEASE_MS}). */
  readonly leaseMs?: number;
}

interface ClaimedRow {
  id: string;
  organizationId: string;
  topic: string;
  payload: unknown;
  attempts: number;
  createdAt: Date | string;
}

/**
 * {@link Outbox} backed by Prisma on PostgreSQL (or PGlite). `claim` is one statement: it locks the
 * oldest unclaimed undispatched rows with `FOR UPDATE SKIP LOCKED` (a concurrent claim skips them
 * rather than waiting, and never gets them) and sets their `claimedUntil` to the database's `now()`
 * + the lease, so relays on different hosts share one clock. A claim whose lease has expired counts
 * as no claim. A mark for a row whose lease expired meanwhile still applies: at worst a task is
 * sent twice, never lost (PROTOCOL.md §2, §5).
 * @throws RangeError when `leaseMs` is not a positive integer.
 */
export class PrismaOutbox implements Outbox {
  private readonly leaseMs: number;

  constructor(protected readonly db: Db, options: PrismaOutboxOptions = {}) {
    this.leaseMs = options.leaseMs ?? DEFAULT_OUTBOX_LEASE_MS;
    if (!Number.isInteger(this.leaseMs) || this.leaseMs <= 0) throw new RangeError(`leaseMs ${this.leaseMs} must be a positive integer`);
  }

  claim(limit: number): Promise<OutboxMessage[]> {
    return this.claimWhere(limit, Prisma.empty);
  }

  /** Claims like {@link claim}, among the rows that also satisfy `condition` (SQL starting with AND). */
  protected async claimWhere(limit: number, condition: Prisma.Sql): Promise<OutboxMessage[]> {
    const rows = await this.db.$queryRaw<ClaimedRow[]>`
      WITH claimable AS (
        SELECT id FROM "OutboxMessage"
        WHERE "dispatchedAt" IS NULL AND ("claimedUntil" IS NULL OR "claimedUntil" <= now()) ${condition}
        ORDER BY "createdAt", id
        LIMIT ${limit}::int
        FOR UPDATE SKIP LOCKED
      )
      UPDATE "OutboxMessage" o SET "claimedUntil" = now() + ${this.leaseMs}::int * interval '1 millisecond'
      FROM claimable WHERE o.id = claimable.id
      RETURNING o.id, o."organizationId", o.topic, o.payload, o.attempts, o."createdAt"`;
    // RETURNING has no order: oldest first, as the claim chose them.
    return rows
      .map((r) => ({ row: r, at: new Date(r.createdAt).getTime() }))
      .sort((a, b) => a.at - b.at || (a.row.id < b.row.id ? -1 : a.row.id > b.row.id ? 1 : 0))
      .map(({ row: r }) => ({
        id: r.id, organizationId: r.organizationId, topic: r.topic, payload: typeof r.payload === "string" ? JSON.parse(r.payload) : r.payload, attempts: Number(r.attempts),
      }));
  }

  async markDispatched(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.outboxMessage.updateMany({ where: { id: { in: [...ids] } }, data: { dispatchedAt: new Date(), claimedUntil: null } });
  }

  async markAttemptFailed(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.outboxMessage.updateMany({ where: { id: { in: [...ids] }, dispatchedAt: null }, data: { attempts: { increment: 1 }, claimedUntil: null } });
  }

  async release(ids: readonly string[]): Promise<void> {
    if (ids.length === 0) return;
    await this.db.outboxMessage.updateMany({ where: { id: { in: [...ids] }, dispatchedAt: null }, data: { claimedUntil: null } });
  }
}
