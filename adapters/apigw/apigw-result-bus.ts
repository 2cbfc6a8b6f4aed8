// ResultBus that delivers job events to API Gateway WebSocket clients with postToConnection (serverless path).
import { ApiGatewayManagementApiClient, GoneException, PostToConnectionCommand } from "@aws-sdk/client-apigatewaymanagementapi";
import type { JobEventV1, JobProgressCounts } from "../../core/domain/job-event.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";
import type { PrismaWebSocketConnectionRegistry } from "./prisma-websocket-connection-registry.ts";

/** API Gateway's WebSocket frame limit (bytes); a message may span frames up to 128 KiB, we stay in one. */
export const MAX_FRAME_BYTES = 32 * 1024;

/** The frame a WebSocket client receives: the event, or a SLICE_RESULT whose mask is too big to inline. */
export type WebSocketFrameV1 =
  | JobEventV1
  | {
      readonly schemaVersion: 1;
      readonly kind: "SLICE_RESULT";
      readonly organizationId: string;
      readonly jobId: string;
      /** The result without `maskRle`; fetch the mask from `maskUrl` (or the GraphQL `results` field when null). */
      readonly result: Omit<SliceResult, "maskRle">;
      readonly maskUrl: string | null;
      /** As in {@link JobEventV1}'s SLICE_RESULT. */
      readonly progress?: JobProgressCounts;
    };

/** Settings of {@link ApiGatewayResultBus}. */
export interface ApiGatewayResultBusOptions {
  /** The WebSocket API's management endpoint: https://{api-id}.execute-api.{region}.amazonaws.com/{stage}. */
  readonly endpoint: string;
  readonly region: string;
  readonly credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  readonly registry: PrismaWebSocketConnectionRegistry;
  /** A short-lived URL of a result's mask, for frames over {@link MAX_FRAME_BYTES}; default none. */
  readonly maskUrl?: (result: SliceResult) => Promise<string | null>;
  readonly onError?: (error: unknown, connectionId: string) => void;
}

/**
 * Publishes each {@link JobEventV1} to every connection registered for its job (same organisation).
 * A connection that answers 410 Gone is removed from the registry. Publish-only: `subscribe` is for
 * processes that hold their own clients (use the NOTIFY or in-memory bus there).
 */
export class ApiGatewayResultBus implements ResultBus {
  private readonly client: ApiGatewayManagementApiClient;

  constructor(private readonly o: ApiGatewayResultBusOptions) {
    this.client = new ApiGatewayManagementApiClient({ endpoint: o.endpoint, region: o.region, ...(o.credentials ? { credentials: o.credentials } : {}), maxAttempts: 2 });
  }

  async publish(event: JobEventV1): Promise<void> {
    await this.publishMany([event]);
  }

  /**
   * Posts `events` in order to every connection of their job: one registry lookup per run of events
   * of the same job (a worker's batch), each event to all connections at once, the next event after.
   */
  async publishMany(events: readonly JobEventV1[]): Promise<void> {
    for (let start = 0; start < events.length;) {
      const { organizationId, jobId } = events[start]!;
      let end = start + 1;
      while (end < events.length && events[end]!.jobId === jobId && events[end]!.organizationId === organizationId) end++;
      const connections = await this.o.registry.forJob(organizationId, jobId);
      for (const event of connections.length === 0 ? [] : events.slice(start, end)) {
        const data = await this.frame(event);
        await Promise.all(connections.map((c) => this.post(c.connectionId, data)));
      }
      start = end;
    }
  }

  /** Sends one frame to one connection (replays at subscribe use it too). Gone connections are removed. */
  async post(connectionId: string, data: Uint8Array): Promise<boolean> {
    try {
      await this.client.send(new PostToConnectionCommand({ ConnectionId: connectionId, Data: data }));
      return true;
    } catch (error) {
      if (error instanceof GoneException || (error as { $metadata?: { httpStatusCode?: number } }).$metadata?.httpStatusCode === 410) {
        await this.o.registry.remove(connectionId);
      } else {
        this.o.onError?.(error, connectionId);
      }
      return false;
    }
  }

  /** The UTF-8 JSON frame of an event, within {@link MAX_FRAME_BYTES}. */
  async frame(event: JobEventV1): Promise<Uint8Array> {
    const inline = Buffer.from(JSON.stringify(event));
    if (inline.byteLength <= MAX_FRAME_BYTES || event.kind !== "SLICE_RESULT") return inline;
    const { maskRle: _omitted, ...result } = event.result;
    const frame: WebSocketFrameV1 = { ...event, result, maskUrl: (await this.o.maskUrl?.(event.result)) ?? null };
    return Buffer.from(JSON.stringify(frame));
  }

  subscribe(): () => void {
    throw new Error("ApiGatewayResultBus is publish-only");
  }

  close(): void {
    this.client.destroy();
  }
}
