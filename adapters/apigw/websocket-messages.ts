// The messages of the serverless WebSocket protocol (PROTOCOL.md §7): what clients send, and error frames.
import { z } from "zod";
import type { ErrorCode } from "../../core/errors/error-codes.ts";

/**
 * `subscribe`: watch one job (one per connection; a second subscribe re-points it). Credentials
 * travel in the message because browsers cannot set headers on a WebSocket handshake: `apiKey`, or
 * `authorization: "Bearer <JWT>"` (the keys of graphql-ws connection params).
 */
const subscribeMessage = z.object({
  action: z.literal("subscribe"),
  jobId: z.string().min(1).max(100),
  /** Contiguous cursor: results with sliceIndex ≤ afterSlice are not replayed (PROTOCOL.md §6). */
  afterSlice: z.number().int().min(-1).default(-1),
  apiKey: z.string().max(500).optional(),
  authorization: z.string().max(5000).optional(),
});

/** `unsubscribe`: stop receiving events on this connection (it stays open). */
const unsubscribeMessage = z.object({ action: z.literal("unsubscribe") });

/** A client → server message, parsed. */
export type WebSocketClientMessage = z.infer<typeof subscribeMessage> | z.infer<typeof unsubscribeMessage>;

const clientMessage = z.discriminatedUnion("action", [subscribeMessage, unsubscribeMessage]);

/**
 * Parses one WebSocket message body (UTF-8 JSON; base64 when API Gateway says so).
 * @returns the message, or the reason it is malformed (sent back as a BAD_REQUEST frame).
 */
export function parseWebSocketClientMessage(body: string | undefined, isBase64Encoded = false): { ok: true; message: WebSocketClientMessage } | { ok: false; reason: string } {
  let json: unknown;
  try {
    json = JSON.parse(isBase64Encoded ? Buffer.from(body ?? "", "base64").toString("utf8") : (body ?? ""));
  } catch {
    return { ok: false, reason: "the message is not JSON" };
  }
  const parsed = clientMessage.safeParse(json);
  if (parsed.success) return { ok: true, message: parsed.data };
  return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.join(".") || "message"}: ${i.message}`).join("; ") };
}

/**
 * Server → client frame for a request that failed: the codes of the one catalogue
 * (BAD_REQUEST, UNAUTHENTICATED, FORBIDDEN, NOT_FOUND, INTERNAL_SERVER_ERROR with an `errorId`
 * that points at the server log). The connection stays open; the client may send another message.
 */
export interface WebSocketErrorFrameV1 {
  readonly schemaVersion: 1;
  readonly kind: "ERROR";
  readonly code: ErrorCode;
  readonly message: string;
  readonly errorId?: string;
}

/** UTF-8 JSON bytes of an error frame. */
export function errorFrame(code: ErrorCode, message: string, errorId?: string): Uint8Array {
  const frame: WebSocketErrorFrameV1 = { schemaVersion: 1, kind: "ERROR", code, message, ...(errorId ? { errorId } : {}) };
  return Buffer.from(JSON.stringify(frame));
}
