// `npm start`: the embedded server — one process, embedded Postgres (PGlite), in-process queue.
import { randomBytes } from "node:crypto";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { parseConfig, parseOptionalConfig } from "./config/parse-config.ts";
import { createLogger } from "./logger.ts";
import { startEmbedded } from "./start-embedded.ts";
import { runDemo } from "./demo/run-demo.ts";
import { ModelDirectoryRegistry } from "../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../adapters/onnx/onnx-inference-engine.ts";
import { PipelineTaskHandler } from "../workers/pipeline/pipeline-task-handler.ts";
import { SegmentationPipeline } from "../workers/pipeline/segmentation-pipeline.ts";

const env = parseConfig(process.env, [
  "PGLITE_DATA_DIR", "LOCAL_STORE_DIR", "HOST", "PORT", "PUBLIC_URL", "LOG_LEVEL", "JWT_ISSUER", "JWT_AUDIENCE",
  "GRAPHQL_INTROSPECTION", "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_COST", "UPLOAD_MAX_BYTES", "UPLOAD_URL_TTL_SECONDS", "DEMO_ON_START",
  "ORT_INTRA_OP_THREADS", "ORT_ALLOW_SPINNING",
]);
const optional = parseOptionalConfig(process.env, ["JWT_SECRET", "DICOM_UID_SECRET"]);
const logger = createLogger(env.LOG_LEVEL, { mode: "embedded" });
const modelsDir = fileURLToPath(new URL("../models", import.meta.url));

const instance = await startEmbedded(
  {
    modelsDir,
    pgliteDataDir: env.PGLITE_DATA_DIR, localStoreDir: env.LOCAL_STORE_DIR, host: env.HOST, port: env.PORT, publicUrl: env.PUBLIC_URL,
    jwt: { secret: optional.JWT_SECRET ?? randomBytes(32).toString("hex"), issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE },
    // Unlike the JWT secret, the UID key must outlive the process: unset, it is kept beside the data folder.
    dicomUidSecret: optional.DICOM_UID_SECRET,
    introspection: env.GRAPHQL_INTROSPECTION, maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST,
    uploadMaxBytes: env.UPLOAD_MAX_BYTES, uploadUrlTtlSeconds: env.UPLOAD_URL_TTL_SECONDS,
  },
  logger,
  // The in-process worker: the same ONNX pipeline the services-mode worker runs, on the CPU.
  (deps) => {
    const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(modelsDir), executionProviders: ["cpu"], intraOpNumThreads: env.ORT_INTRA_OP_THREADS, allowSpinning: env.ORT_ALLOW_SPINNING, logger });
    return new PipelineTaskHandler({ pipeline: new SegmentationPipeline({ engine }), engine, sink: deps.sink, bus: deps.bus, store: deps.store, slices: deps.slices });
  },
);

const url = instance.server.graphqlUrl;
const key = instance.bootstrap.apiKey;
process.stdout.write(`
coinseg embedded server is up
  GraphQL (HTTP):       ${url}
  GraphQL (WebSocket):  ${url.replace(/^http/, "ws")}
  API key (this run):   ${key}

Try:
  curl -s ${url} -H 'content-type: application/json' -H 'x-api-key: ${key}' \\
    -d '{"query":"mutation { createStudy(input: { title: \\"first study\\" }) { study { id title status } } }"}'
  curl -s ${url} -H 'content-type: application/json' -H 'x-api-key: ${key}' \\
    -d '{"query":"{ studies(first: 20) { edges { node { id title status slices(first: 5) { totalCount } } } } }"}'

Ctrl+C stops the server.
`);

if (env.DEMO_ON_START) {
  // The demo is a plain client of the server that just started (DEMO_ON_START=false turns it off).
  process.stdout.write("\nDemo: a phantom CT study, image-level labels, and masks streamed as they are computed\n");
  try {
    const demo = await runDemo({ graphqlUrl: url, apiKey: key, outDir: path.resolve(env.LOCAL_STORE_DIR, "..", "demo") });
    if (demo.jobId) {
      process.stdout.write(`
The demo job's results, by query (the server keeps running):
  curl -s ${url} -H 'content-type: application/json' -H 'x-api-key: ${key}' \\
    -d '{"query":"{ segmentationJob(id: \\"${demo.jobId}\\") { status completedSlices totalSlices results(afterSlice: -1) { sliceIndex areaPx pAbnormalBefore pAbnormalAfter flipped } } }"}'
`);
    }
  } catch (err) {
    logger.error({ err }, "demo failed; the server keeps running");
  }
}

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    instance.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    });
  });
}
