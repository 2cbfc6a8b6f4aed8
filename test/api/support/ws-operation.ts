// Runs one GraphQL operation over graphql-ws against a test server and reports what came back.
import WebSocket from "ws";
import { createClient } from "graphql-ws";

/** What one operation over WebSocket produced. */
export interface WsOutcome {
  /** `extensions.code` of every error, from `next` payloads and the `error` message alike. */
  readonly codes: string[];
  /** Messages of those errors, in the same order. */
  readonly messages: string[];
  /** `data` of every `next` payload that had some. */
  readonly data: Record<string, unknown>[];
  /** Set when the server closed the socket instead of answering the operation. */
  readonly closeCode?: number;
}

/**
 * Connects to `graphqlUrl` (http:// is turned into ws://) with `connectionParams`, runs one query,
 * mutation or subscription, and collects its results until the operation completes or `maxEvents`
 * `next` payloads arrived (then it unsubscribes). The client never retries.
 */
export async function wsOperation(
  graphqlUrl: string,
  connectionParams: Record<string, string>,
  payload: { query: string; variables?: Record<string, unknown>; operationName?: string },
  maxEvents = 1,
): Promise<WsOutcome> {
  const client = createClient({ url: graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
  const codes: string[] = [];
  const messages: string[] = [];
  const data: Record<string, unknown>[] = [];
  const record = (errors: readonly { message: string; extensions?: Record<string, unknown> }[]) => {
    for (const e of errors) {
      codes.push(String(e.extensions?.["code"]));
      messages.push(e.message);
    }
  };
  try {
    let events = 0;
    for await (const next of client.iterate<Record<string, unknown>>(payload)) {
      record(next.errors ?? []);
      if (next.data) data.push(next.data);
      if (++events >= maxEvents) break;
    }
  } catch (error) {
    if (Array.isArray(error)) record(error as { message: string; extensions?: Record<string, unknown> }[]);
    else if (typeof (error as { code?: unknown }).code === "number") return { codes, messages, data, closeCode: (error as { code: number }).code };
    else throw error;
  } finally {
    await client.dispose();
  }
  return { codes, messages, data };
}
