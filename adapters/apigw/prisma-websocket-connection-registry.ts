// The API Gateway WebSocket connection registry in PostgreSQL (model WebSocketConnection).
import type { Db } from "../prisma/prisma-client.ts";

/** A registered connection watching one job. */
export interface WebSocketConnectionEntry {
  readonly connectionId: string;
  readonly organizationId: string;
  readonly jobId: string;
  readonly afterSlice: number;
  readonly expiresAt: Date;
}

/** API Gateway closes a WebSocket connection after 2 hours at most. */
export const MAX_CONNECTION_SECONDS = 2 * 60 * 60;

/** Which connections watch which job (shared by every Lambda and worker instance). */
export class PrismaWebSocketConnectionRegistry {
  constructor(private readonly db: Db) {}

  /** Registers (or re-points) a connection; it expires `MAX_CONNECTION_SECONDS` after `now`. */
  async register(entry: { connectionId: string; organizationId: string; jobId: string; afterSlice: number }, now = new Date()): Promise<WebSocketConnectionEntry> {
    const expiresAt = new Date(now.getTime() + MAX_CONNECTION_SECONDS * 1000);
    const row = await this.db.webSocketConnection.upsert({
      where: { connectionId: entry.connectionId },
      create: { ...entry, expiresAt },
      update: { organizationId: entry.organizationId, jobId: entry.jobId, afterSlice: entry.afterSlice, expiresAt },
    });
    return row;
  }

  /** Live connections watching `jobId` in `organizationId`. */
  async forJob(organizationId: string, jobId: string, now = new Date()): Promise<WebSocketConnectionEntry[]> {
    return this.db.webSocketConnection.findMany({ where: { organizationId, jobId, expiresAt: { gt: now } } });
  }

  /** Forgets a connection ($disconnect, or 410 Gone on post). Returns whether it was registered. */
  async remove(connectionId: string): Promise<boolean> {
    const { count } = await this.db.webSocketConnection.deleteMany({ where: { connectionId } });
    return count === 1;
  }

  /** Deletes expired registrations; returns how many. */
  async removeExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.webSocketConnection.deleteMany({ where: { expiresAt: { lte: now } } });
    return count;
  }
}
