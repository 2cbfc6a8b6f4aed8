// A local emulator of an API Gateway HTTP API's $default stage in front of the API Lambda: each HTTP
// request on a loopback port becomes a payload 2.0 event (body base64-encoded), and the handler's
// answer (base64 or text body) goes back as the HTTP response.
import { randomUUID } from "node:crypto";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { APIGatewayProxyEventV2, Callback, Context } from "aws-lambda";

/** The API Lambda's handler (app/lambda/create-lambda-handler.ts). */
export type HttpApiHandler = (event: APIGatewayProxyEventV2, context: Context, callback: Callback) => Promise<unknown>;

/** A running emulator. */
export interface HttpApiEmulator {
  /** `http://127.0.0.1:{port}`: the API's origin (in AWS `https://{api}.execute-api.{region}.amazonaws.com`). */
  readonly url: string;
  close(): Promise<void>;
}

/** Starts the emulator on an ephemeral loopback port. */
export async function startHttpApiEmulator(handler: HttpApiHandler): Promise<HttpApiEmulator> {
  const server: Server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on("data", (c: Buffer) => chunks.push(c));
    req.on("end", () => {
      const url = new URL(req.url ?? "/", "http://emulator");
      const body = Buffer.concat(chunks);
      const headers = Object.fromEntries(Object.entries(req.headers).map(([k, v]) => [k, Array.isArray(v) ? v.join(",") : String(v)]));
      const method = req.method ?? "GET";
      const now = new Date();
      const event: APIGatewayProxyEventV2 = {
        version: "2.0", routeKey: "$default", rawPath: url.pathname, rawQueryString: url.search.slice(1), headers,
        ...(url.search ? { queryStringParameters: Object.fromEntries(url.searchParams) } : {}),
        ...(body.byteLength ? { body: body.toString("base64") } : {}),
        isBase64Encoded: body.byteLength > 0,
        requestContext: {
          accountId: "123456789012", apiId: "emulator", domainName: headers["host"] ?? "127.0.0.1", domainPrefix: "emulator",
          http: { method, path: url.pathname, protocol: "HTTP/1.1", sourceIp: "127.0.0.1", userAgent: headers["user-agent"] ?? "" },
          requestId: randomUUID(), routeKey: "$default", stage: "$default", time: now.toUTCString(), timeEpoch: now.getTime(),
        },
      };
      handler(event, {} as Context, () => {})
        .then((out) => {
          const r = out as { statusCode?: number; headers?: Record<string, string>; body?: string; isBase64Encoded?: boolean };
          res.writeHead(r.statusCode ?? 200, r.headers ?? {}).end(Buffer.from(r.body ?? "", r.isBase64Encoded ? "base64" : "utf8"));
        })
        .catch(() => res.writeHead(502, { "content-type": "application/json" }).end(JSON.stringify({ message: "Internal Server Error" })));
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`,
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
