// `npm run worker`: the services-mode inference worker — SQS → ONNX pipeline → Postgres, events over NOTIFY.
// Also relays the outbox to SQS (WORKER_RELAY_OUTBOX). SIGTERM/SIGINT: stop polling, finish the current
// batch of slices, release unfinished messages, exit 0.
import path from "node:path";
import { parseConfig, parseOptionalConfig } from "./config/parse-config.ts";
import { createLogger } from "./logger.ts";
import { createObjectStore } from "./object-store-factory.ts";
import { startWorker } from "./worker/start-worker.ts";

const env = parseConfig(process.env, [
  "DATABASE_URL", "LOG_LEVEL", "AWS_REGION", "SQS_QUEUE_URL", "SQS_VISIBILITY_TIMEOUT_SECONDS", "SQS_WAIT_TIME_SECONDS", "SQS_MAX_RECEIVE_COUNT",
  "WORKER_CONCURRENCY", "WORKER_BATCH_SIZE", "WORKER_RELAY_OUTBOX", "OUTBOX_POLL_MS", "METRICS_HOST", "METRICS_PORT", "MODELS_DIR",
  "OBJECT_STORE", "LOCAL_STORE_DIR",
]);
const optional = parseOptionalConfig(process.env, ["APIGW_MANAGEMENT_ENDPOINT", "SQS_ENDPOINT", "S3_BUCKET", "S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
const logger = createLogger(env.LOG_LEVEL, { mode: "worker" });
const credentials = optional.AWS_ACCESS_KEY_ID && optional.AWS_SECRET_ACCESS_KEY ? { accessKeyId: optional.AWS_ACCESS_KEY_ID, secretAccessKey: optional.AWS_SECRET_ACCESS_KEY } : undefined;

const worker = await startWorker(
  {
    databaseUrl: env.DATABASE_URL,
    sqs: {
      region: env.AWS_REGION, endpoint: optional.SQS_ENDPOINT, credentials, queueUrl: env.SQS_QUEUE_URL,
      visibilityTimeoutSeconds: env.SQS_VISIBILITY_TIMEOUT_SECONDS, waitTimeSeconds: env.SQS_WAIT_TIME_SECONDS, maxReceiveCount: env.SQS_MAX_RECEIVE_COUNT,
    },
    concurrency: env.WORKER_CONCURRENCY,
    batchSize: env.WORKER_BATCH_SIZE,
    modelsDir: path.resolve(env.MODELS_DIR),
    relayOutbox: env.WORKER_RELAY_OUTBOX,
    apiGatewayEndpoint: optional.APIGW_MANAGEMENT_ENDPOINT,
    outboxPollMs: env.OUTBOX_POLL_MS,
    metrics: { host: env.METRICS_HOST, port: env.METRICS_PORT },
    // Workers never issue upload URLs: the base URL is unused.
    store: createObjectStore({ ...env, ...optional }, () => ""),
  },
  logger,
);
logger.info("coinseg worker started");

let stopping = false;
for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    if (stopping) return;
    stopping = true;
    logger.info({ signal }, "stopping: finishing the current batch, then exiting");
    worker.stop().then(() => process.exit(0), (err: unknown) => {
      logger.error({ err }, "shutdown failed");
      process.exit(1);
    });
  });
}
