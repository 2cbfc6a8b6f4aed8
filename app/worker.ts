// `npm run worker`: the services-mode inference worker — SQS → ONNX pipeline → Postgres, events over NOTIFY.
// Also relays the outbox to SQS (WORKER_RELAY_OUTBOX). SIGTERM/SIGINT: stop polling, finish the current
// batch of slices, release unfinished messages, exit 0.
import path from "node:path";
import { staticAwsCredentials } from "./aws-credentials.ts";
import { parseConfig, parseOptionalConfig } from "./config/parse-config.ts";
import { createLogger } from "./logger.ts";
import { createObjectStore } from "./object-store-factory.ts";
import { startWorker } from "./worker/start-worker.ts";
import { WORKER_OPTIONAL_VARIABLES, WORKER_VARIABLES } from "./worker/worker-environment.ts";

const env = parseConfig(process.env, WORKER_VARIABLES);
const optional = parseOptionalConfig(process.env, WORKER_OPTIONAL_VARIABLES);
const logger = createLogger(env.LOG_LEVEL, { mode: "worker" });
const credentials = staticAwsCredentials(optional);

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
    executionProviders: env.ORT_EXECUTION_PROVIDERS,
    intraOpNumThreads: env.ORT_INTRA_OP_THREADS,
    allowSpinning: env.ORT_ALLOW_SPINNING,
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
