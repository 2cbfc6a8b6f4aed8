// A local emulator of an API Gateway WebSocket API stage (PROTOCOL.md §7), on one loopback port: clients
// connect with a WebSocket; each connect, message and close becomes an APIGatewayProxyWebsocketEventV2
// for the WebSocket Lambda's handler; the management API (POST /{stage}/@connections/{id}, what
// ApiGatewayResultBus's postToConnection sends) forwards a body to that connection as a text frame.
import { randomBytes, randomUUID } from "node:crypto";
import { createServer, type IncomingMessage, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { Duplex } from "node:stream";
import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { WebSocket, WebSocketServer } from "ws";

/** The WebSocket Lambda's handler, as API Gateway invokes it (its result's `statusCode` decides a $connect). */
export type WebSocketRouteHandler = (event: APIGatewayProxyWebsocketEventV2) => Promise<{ statusCode?: number } | unknown>;

/** One message a client sent (the body API Gateway hands the $default route). */
export interface ClientMessage {
  readonly connectionId: string;
  readonly body: string;
}

/** A running emulator. */
export interface ApiGatewayWebSocketEmulator {
  /** The stage's client URL, `ws://127.0.0.1:{port}/{stage}` (in AWS `wss://{api}.execute-api.{region}.amazonaws.com/{stage}`). */
  readonly url: string;
  /** The stage's management endpoint (APIGW_MANAGEMENT_ENDPOINT), `http://127.0.0.1:{port}/{stage}`. */
  readonly managementEndpoint: string;
  /** Every client message so far, in arrival order. */
  readonly messages: ClientMessage[];
  /** How many frames the management API has forwarded, per connection id. */
  readonly posted: Map<string, number>;
  /** Errors the handler threw (API Gateway would answer 500 and log them); a test expects none. */
  readonly handlerErrors: unknown[];
  /** Ids of the open connections. */
  connectionIds(): string[];
  /** Closes a connection from the server's side (code 1001), as API Gateway does after 10 min idle or 2 h; $disconnect follows. */
  drop(connectionId: string): void;
  close(): Promise<void>;
}

/** An id shaped like API Gateway's (12 characters and `=`; URL-safe). */
const connectionIdOf = (): string => `${randomBytes(9).toString("base64url")}=`;

/** The event API Gateway sends the integration for `routeKey` on `connectionId`. */
function websocketEvent(routeKey: "$connect" | "$disconnect" | "$default", connectionId: string, stage: string, host: string, connectedAt: number, body?: string): APIGatewayProxyWebsocketEventV2 {
  const eventType = routeKey === "$connect" ? "CONNECT" : routeKey === "$disconnect" ? "DISCONNECT" : "MESSAGE";
  const now = new Date();
  return {
    requestContext: {
      routeKey, eventType, connectionId, messageId: randomUUID(), extendedRequestId: randomUUID(), requestTime: now.toUTCString(), messageDirection: "IN",
      stage, connectedAt, requestTimeEpoch: now.getTime(), requestId: randomUUID(), domainName: host, apiId: "emulator",
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body }),
  };
}

/**
 * Starts the emulator on an ephemeral loopback port; `handler` gets every route's event (a $connect
 * answered with a status other than 2xx refuses the handshake with 403, as API Gateway does). The
 * management API accepts SigV4-signed requests without checking the signature and answers 410 Gone
 * for an unknown connection.
 */
export async function startApiGatewayWebSocketEmulator(handler: WebSocketRouteHandler, stage = "test"): Promise<ApiGatewayWebSocketEmulator> {
  const sockets = new Map<string, WebSocket>();
  const messages: ClientMessage[] = [];
  const posted = new Map<string, number>();
  const handlerErrors: unknown[] = [];
  const wss = new WebSocketServer({ noServer: true });
  let host = "127.0.0.1";

  async function invoke(event: APIGatewayProxyWebsocketEventV2): Promise<number> {
    try {
      const out = (await handler(event)) as { statusCode?: number } | undefined;
      return out?.statusCode ?? 200;
    } catch (error) {
      handlerErrors.push(error);
      return 500;
    }
  }

  async function upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
    const connectionId = connectionIdOf();
    const connectedAt = Date.now();
    const status = await invoke(websocketEvent("$connect", connectionId, stage, host, connectedAt));
    if (status < 200 || status > 299) return void socket.end("HTTP/1.1 403 Forbidden\r\nConnection: close\r\n\r\n");
    wss.handleUpgrade(req, socket, head, (ws) => {
      sockets.set(connectionId, ws);
      ws.on("message", (data, isBinary) => {
        const body = isBinary ? Buffer.from(data as Buffer).toString("base64") : data.toString();
        messages.push({ connectionId, body });
        const event = websocketEvent("$default", connectionId, stage, host, connectedAt, body);
        void invoke(isBinary ? { ...event, isBase64Encoded: true } : event);
      });
      ws.on("close", () => {
        sockets.delete(connectionId);
        void invoke(websocketEvent("$disconnect", connectionId, stage, host, connectedAt));
      });
    });
  }

  const management = new RegExp(`^/${stage}/@connections/([^/?]+)$`);
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const match = management.exec(req.url ?? "");
      if (req.method !== "POST" || !match) return void res.writeHead(404, { "content-type": "application/json" }).end(JSON.stringify({ message: "Not Found" }));
      const connectionId = decodeURIComponent(match[1]!);
      const ws = sockets.get(connectionId);
      if (!ws || ws.readyState !== WebSocket.OPEN) {
        return void res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" }).end(JSON.stringify({ message: "Gone" }));
      }
      ws.send(Buffer.concat(chunks).toString("utf8"));
      posted.set(connectionId, (posted.get(connectionId) ?? 0) + 1);
      res.writeHead(200).end();
    });
  });
  server.on("upgrade", (req, socket, head) => void upgrade(req, socket, head));
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as AddressInfo).port;
  host = `127.0.0.1:${port}`;
  return {
    url: `ws://${host}/${stage}`,
    managementEndpoint: `http://${host}/${stage}`,
    messages,
    posted,
    handlerErrors,
    connectionIds: () => [...sockets.keys()],
    drop: (connectionId) => sockets.get(connectionId)?.close(1001, "Going away"),
    async close() {
      for (const ws of sockets.values()) ws.terminate();
      wss.close();
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
