// A tiny HTTP server for the worker: GET /metrics (Prometheus text format) and GET /healthz.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import type { WorkerMetrics } from "./worker-metrics.ts";

/** A listening metrics server. */
export interface MetricsServer {
  readonly url: string;
  close(): Promise<void>;
}

/** Serves `metrics` on host:port (port 0 = any free port). */
export async function startMetricsServer(metrics: WorkerMetrics, host: string, port: number): Promise<MetricsServer> {
  const server: Server = createServer((req, res) => {
    if (req.method === "GET" && req.url === "/metrics") {
      res.writeHead(200, { "content-type": "text/plain; version=0.0.4; charset=utf-8" }).end(metrics.render());
    } else if (req.method === "GET" && req.url === "/healthz") {
      res.writeHead(200, { "content-type": "text/plain" }).end("ok\n");
    } else {
      res.writeHead(404).end();
    }
  });
  await new Promise<void>((resolve) => server.listen(port, host, resolve));
  const address = server.address() as AddressInfo;
  return {
    url: `http://${host}:${address.port}`,
    close: () => new Promise<void>((resolve, reject) => server.close((err) => (err ? reject(err) : resolve()))),
  };
}
