// A local stand-in of API Gateway's WebSocket management API: POST /{stage}/@connections/{id}.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";

/** One postToConnection the stand-in received. */
export interface ManagementPost {
  readonly connectionId: string;
  readonly frame: Record<string, any>;
  readonly bytes: number;
  readonly authorization: string;
}

/** The running stand-in; connection ids in `gone` answer 410 Gone, as API Gateway does for closed ones. */
export interface ManagementApiStandIn {
  /** The endpoint to configure (APIGW_MANAGEMENT_ENDPOINT), stage `test`. */
  readonly url: string;
  readonly posts: ManagementPost[];
  readonly gone: Set<string>;
  /** Frames posted to one connection, in order. */
  framesTo(connectionId: string): Record<string, any>[];
  close(): Promise<void>;
}

/** Starts the stand-in on an ephemeral loopback port. */
export async function startManagementApi(): Promise<ManagementApiStandIn> {
  const posts: ManagementPost[] = [];
  const gone = new Set<string>();
  const server: Server = createServer((req, res) => {
    const match = /^\/test\/@connections\/([^/?]+)$/.exec(req.url ?? "");
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      if (req.method !== "POST" || !match) return void res.writeHead(404).end();
      const connectionId = decodeURIComponent(match[1]!);
      if (gone.has(connectionId)) {
        return void res.writeHead(410, { "content-type": "application/json", "x-amzn-errortype": "GoneException" }).end(JSON.stringify({ message: "Gone" }));
      }
      const body = Buffer.concat(chunks);
      posts.push({ connectionId, frame: JSON.parse(body.toString("utf8")) as Record<string, any>, bytes: body.byteLength, authorization: String(req.headers.authorization ?? "") });
      res.writeHead(200).end();
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}/test`,
    posts,
    gone,
    framesTo: (connectionId) => posts.filter((p) => p.connectionId === connectionId).map((p) => p.frame),
    close: () => new Promise((r) => server.close(() => r())),
  };
}
