// Every environment variable coinseg reads, in one zod object. Each process parses the subset it
// needs once, at start (see parse-config.ts); process.env is read nowhere else.
import { z } from "zod";

const bool = z
  .enum(["true", "false", "1", "0"])
  .transform((v) => v === "true" || v === "1");

/** ONNX Runtime execution providers this build knows (adapters/onnx), in the order they are tried. */
export const EXECUTION_PROVIDER_NAMES = ["cuda", "cpu"] as const;

const executionProviders = z
  .string()
  .transform((v) => v.split(",").map((p) => p.trim()).filter((p) => p !== ""))
  .pipe(z.array(z.enum(EXECUTION_PROVIDER_NAMES)).min(1, "name at least one provider (cuda, cpu)").refine((list) => new Set(list).size === list.length, "a provider is listed twice"));

/**
 * The environment variables, with their defaults. The README documents each of them (a test
 * checks that), and `describe()` carries the one-line documentation.
 */
export const envSchema = z.object({
  DATABASE_URL: z.string().url().describe("PostgreSQL URL (services mode, migrations, Lambda). Embedded mode ignores it."),
  PGLITE_DATA_DIR: z.string().default(".coinseg/pglite").describe("Embedded mode: PGlite data folder, or `memory://` for a throw-away database."),
  HOST: z.string().default("127.0.0.1").describe("Interface the HTTP/WebSocket server listens on."),
  PORT: z.coerce.number().int().min(0).max(65535).default(4000).describe("Port of the HTTP/WebSocket server (0 = any free port)."),
  PUBLIC_URL: z.string().url().optional().describe("Base URL clients use to reach this server (local upload URLs); default http://HOST:PORT."),
  LOG_LEVEL: z.enum(["fatal", "error", "warn", "info", "debug", "trace", "silent"]).default("info").describe("pino log level."),
  JWT_SECRET: z.string().min(32).describe("HS256 secret for bearer JWTs (at least 32 characters). Embedded mode generates one when unset."),
  JWT_ISSUER: z.string().default("coinseg").describe("Expected `iss` of bearer JWTs."),
  JWT_AUDIENCE: z.string().default("coinseg-api").describe("Expected `aud` of bearer JWTs."),
  DICOM_UID_SECRET: z.string().min(32).describe("Key of the per-organisation mapping of DICOM Study/Series/FrameOfReference UIDs (HMAC-SHA256, at least 32 characters). Required by `npm run api`; embedded mode generates one and keeps it beside its PGlite data folder; the API Lambda requires it too (in AWS from its own Secrets Manager secret, DICOM_UID_SECRET_ARN)."),
  GRAPHQL_INTROSPECTION: bool.default(true).describe("Allow GraphQL introspection queries (true/false)."),
  GRAPHQL_MAX_DEPTH: z.coerce.number().int().positive().default(12).describe("Maximum selection depth of a GraphQL operation."),
  GRAPHQL_MAX_COST: z.coerce.number().int().positive().default(20000).describe("Maximum estimated cost of a GraphQL operation (list fields multiply by `first`)."),
  OBJECT_STORE: z.enum(["local", "s3"]).default("local").describe("Where pixels and uploads live: `local` folder or `s3`."),
  LOCAL_STORE_DIR: z.string().default(".coinseg/objects").describe("Folder of the local object store."),
  S3_BUCKET: z.string().min(3).describe("S3 bucket name (OBJECT_STORE=s3)."),
  S3_ENDPOINT: z.string().url().optional().describe("S3-compatible endpoint (e.g. a local emulator); unset = AWS."),
  AWS_REGION: z.string().default("us-east-1").describe("AWS region for S3 and SQS clients."),
  AWS_ACCESS_KEY_ID: z.string().optional().describe("Static AWS credentials (needed for local endpoints)."),
  AWS_SECRET_ACCESS_KEY: z.string().optional().describe("Static AWS credentials (needed for local endpoints)."),
  AWS_SESSION_TOKEN: z.string().optional().describe("Session token that goes with temporary AWS credentials (the Lambda runtime sets it next to AWS_ACCESS_KEY_ID)."),
  UPLOAD_MAX_BYTES: z.coerce.number().int().positive().default(256 * 1024 * 1024).describe("Largest accepted upload in bytes."),
  UPLOAD_URL_TTL_SECONDS: z.coerce.number().int().positive().default(900).describe("Lifetime of an upload URL in seconds."),
  SQS_QUEUE_URL: z.string().url().describe("Worker: URL of the SQS task queue (its redrive policy sends messages to the dead-letter queue after SQS_MAX_RECEIVE_COUNT receives)."),
  SQS_ENDPOINT: z.string().url().optional().describe("SQS-compatible endpoint (e.g. moto at http://127.0.0.1:4566); unset = AWS."),
  SQS_VISIBILITY_TIMEOUT_SECONDS: z.coerce.number().int().min(1).max(43200).default(60).describe("Worker: visibility timeout per receive in seconds; a heartbeat extends it every half timeout while a task runs."),
  SQS_WAIT_TIME_SECONDS: z.coerce.number().int().min(0).max(20).default(20).describe("Worker: SQS long-poll wait in seconds (0–20)."),
  SQS_MAX_RECEIVE_COUNT: z.coerce.number().int().min(1).default(3).describe("Worker: the queue's redrive maxReceiveCount; on the last receive a failing task fails its job (TASK_DEAD_LETTERED)."),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(64).default(1).describe("Worker: task messages handled at once."),
  WORKER_BATCH_SIZE: z.coerce.number().int().min(1).max(64).default(8).describe("Worker: slices per inference batch (shutdown and cancellation take effect between batches)."),
  WORKER_RELAY_OUTBOX: bool.default(true).describe("Worker: also relay the outbox to SQS (true/false)."),
  OUTBOX_POLL_MS: z.coerce.number().int().min(10).default(500).describe("Worker: how often the outbox relay looks for new tasks, in milliseconds."),
  METRICS_HOST: z.string().default("127.0.0.1").describe("Worker: interface of the /metrics endpoint."),
  METRICS_PORT: z.coerce.number().int().min(0).max(65535).default(9464).describe("Worker: port of the Prometheus /metrics endpoint (0 = any free port)."),
  DEMO_ON_START: bool.default(true).describe("Embedded mode: run the demo client at start (phantom study, COIN, streamed results, overlay PNG)."),
  APIGW_MANAGEMENT_ENDPOINT: z.string().url().optional().describe("Worker: API Gateway WebSocket management endpoint (https://{api}.execute-api.{region}.amazonaws.com/{stage}); events also go to registered WebSocket connections."),
  VIEWER_STREAM_URL: z.string().url().refine((u) => /^wss?:\/\//.test(u), "a ws:// or wss:// URL").optional().describe("API Lambda: URL of the WebSocket API's stage (`wss://{api}.execute-api.{region}.amazonaws.com/{stage}`) the web viewer streams jobs from (PROTOCOL.md §7); the viewer's CSP allows its origin. Unset: the viewer served by the Lambda reads a job once, without live updates."),
  MODELS_DIR: z.string().default("models").describe("Worker: folder of model directories (models/<key>/model.json + model.onnx)."),
  ORT_EXECUTION_PROVIDERS: executionProviders.default(["cpu"]).describe("Worker: ONNX Runtime execution providers, comma-separated, first preferred (`cuda,cpu` on GPU hosts); a provider that does not load is logged and skipped, CPU is the last resort."),
  ORT_INTRA_OP_THREADS: z.coerce.number().int().min(0).max(1024).default(0).describe("Worker and embedded mode: ONNX Runtime intra-op threads per model session (0 = ONNX Runtime's default, one per core); with several worker processes on one host, give each cores ÷ processes."),
  ORT_ALLOW_SPINNING: bool.default(false).describe("Worker and embedded mode: let ONNX Runtime's intra-op threads spin-wait after a run (true/false). Off by default: a pipeline runs several model sessions in turn, and one session's spinning threads slow the next (docs/SCALING.md §1)."),
  OUTBOX_RELAY_MIN_AGE_SECONDS: z.coerce.number().int().min(0).max(3600).default(30).describe("Scheduled outbox relay (AWS): sends only outbox rows at least this old, in seconds; younger ones are being sent by the API that wrote them."),
});

/** Parsed environment: every variable, typed, defaults applied. */
export type Env = z.infer<typeof envSchema>;
/** Names of the variables coinseg reads. */
export type EnvName = keyof typeof envSchema.shape;
