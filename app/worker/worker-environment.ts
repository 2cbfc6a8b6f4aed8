// The environment variables app/worker.ts parses (names only, so infra tests can check the stack
// against them without loading the worker). Every name is a key of app/config/env-schema.ts.
import { AWS_CREDENTIAL_VARIABLES } from "../aws-credentials.ts";

/** Variables app/worker.ts parses (required ones fail the start when missing); infra/ sets these. */
export const WORKER_VARIABLES = [
  "DATABASE_URL", "LOG_LEVEL", "AWS_REGION", "SQS_QUEUE_URL", "SQS_VISIBILITY_TIMEOUT_SECONDS", "SQS_WAIT_TIME_SECONDS", "SQS_MAX_RECEIVE_COUNT",
  "WORKER_CONCURRENCY", "WORKER_BATCH_SIZE", "WORKER_RELAY_OUTBOX", "OUTBOX_POLL_MS", "METRICS_HOST", "METRICS_PORT", "MODELS_DIR",
  "OBJECT_STORE", "LOCAL_STORE_DIR", "ORT_EXECUTION_PROVIDERS", "ORT_INTRA_OP_THREADS", "ORT_ALLOW_SPINNING",
] as const;

/** Variables app/worker.ts parses as optional (no default, feature off when unset). */
export const WORKER_OPTIONAL_VARIABLES = [
  "APIGW_MANAGEMENT_ENDPOINT", "SQS_ENDPOINT", "S3_BUCKET", "S3_ENDPOINT", ...AWS_CREDENTIAL_VARIABLES,
] as const;
