// `npm run api`: the API in services mode — PostgreSQL at DATABASE_URL, S3 or a local folder, job
// events over LISTEN/NOTIFY. It writes inference tasks to the outbox; the worker process relays
// them to SQS (`npm run worker`). Run `npm run db:migrate` first.
import { JoseTokenVerifier } from "../adapters/auth/jose-token-verifier.ts";
import { PgNotifyResultBus } from "../adapters/events/pg-notify-result-bus.ts";
import { PrismaJobRepository } from "../adapters/prisma/prisma-job-repository.ts";
import { createPgPrismaClient } from "../adapters/prisma/prisma-client.ts";
import { LocalObjectStore } from "../adapters/storage/local-object-store.ts";
import { buildGraphQLSchema } from "./api/graphql-schema.ts";
import { startHttpServer } from "./api/http-server.ts";
import { wireServices } from "./api/wire-services.ts";
import { parseConfig, parseOptionalConfig } from "./config/parse-config.ts";
import { createLogger } from "./logger.ts";
import { createObjectStore } from "./object-store-factory.ts";

const env = parseConfig(process.env, [
  "DATABASE_URL", "HOST", "PORT", "PUBLIC_URL", "LOG_LEVEL", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "DICOM_UID_SECRET", "GRAPHQL_INTROSPECTION",
  "GRAPHQL_MAX_DEPTH", "GRAPHQL_MAX_COST", "OBJECT_STORE", "LOCAL_STORE_DIR", "AWS_REGION", "UPLOAD_MAX_BYTES", "UPLOAD_URL_TTL_SECONDS",
]);
const s3 = parseOptionalConfig(process.env, ["S3_BUCKET", "S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
const logger = createLogger(env.LOG_LEVEL, { mode: "api" });

let baseUrl = env.PUBLIC_URL ?? "";
const prisma = createPgPrismaClient(env.DATABASE_URL);
const store = createObjectStore({ ...env, ...s3 }, () => baseUrl);
const jobsForBus = new PrismaJobRepository(prisma);
const bus = new PgNotifyResultBus(
  env.DATABASE_URL,
  async (org, jobId, sliceId) => (await jobsForBus.resultsBySlice(org, [sliceId])).get(sliceId)?.find((r) => r.jobId === jobId) ?? null,
  (err) => logger.error({ err }, "job event dispatch failed"),
);
await bus.start();
const services = wireServices({
  prisma, store, bus, tokens: new JoseTokenVerifier({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE }), logger,
  // No queue: tasks stay in the outbox for the worker's relay; the API never sends to SQS itself.
  uploadMaxBytes: env.UPLOAD_MAX_BYTES, uploadUrlTtlSeconds: env.UPLOAD_URL_TTL_SECONDS, dicomUidSecret: env.DICOM_UID_SECRET,
});
const server = await startHttpServer({
  schema: buildGraphQLSchema(), services, logger, host: env.HOST, port: env.PORT, introspection: env.GRAPHQL_INTROSPECTION,
  maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST, uploadMaxBytes: env.UPLOAD_MAX_BYTES,
  ...(store instanceof LocalObjectStore ? { localStore: store } : {}),
});
baseUrl ||= server.baseUrl;
logger.info({ url: server.graphqlUrl }, "coinseg API listening");

for (const signal of ["SIGINT", "SIGTERM"] as const) {
  process.once(signal, () => {
    void (async () => {
      await server.close();
      await bus.close();
      await prisma.$disconnect();
      process.exit(0);
    })();
  });
}
