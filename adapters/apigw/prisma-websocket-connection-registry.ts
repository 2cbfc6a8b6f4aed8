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

  /**
   * Registers a connection, or re-points it to another job. A new registration expires
   * `MAX_CONNECTION_SECONDS` after `now`; re-pointing keeps the first expiry, because the connection
   * (opened before its first subscribe) is closed by API Gateway by then whatever it watches.
   */
  async register(entry: { connectionId: string; organizationId: string; jobId: string; afterSlice: number }, now = new Date()): Promise<WebSocketConnectionEntry> {
    const expiresAt = new Date(now.getTime() + MAX_CONNECTION_SECONDS * 1000);
    const row = await this.db.webSocketConnection.upsert({
      where: { connectionId: entry.connectionId },
      create: { ...entry, expiresAt },
      update: { organizationId: entry.organizationId, jobId: entry.jobId, afterSlice: entry.afterSlice },
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

  /**
   * Deletes the registrations past their expiry: first registered more than `MAX_CONNECTION_SECONDS`
   * (2 h) before `now`, so API Gateway has closed their connections, which may have ended without a
   * `$disconnect` or a `410 Gone` to remove them. Run on a schedule by the WebSocket Lambda
   * (app/lambda/create-websocket-handler.ts). Returns how many were deleted.
   */
  async removeExpired(now = new Date()): Promise<number> {
    const { count } = await this.db.webSocketConnection.deleteMany({ where: { expiresAt: { lte: now } } });
    return count;
  }
}
