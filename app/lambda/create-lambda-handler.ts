// The API as an AWS Lambda handler behind API Gateway (HTTP API, payload v2): same schema, resolvers
// and services as the standalone server. Subscriptions go through API Gateway WebSocket (infra/).
import { handlers, startServerAndCreateLambdaHandler } from "@as-integrations/aws-lambda";
import { randomUUID } from "node:crypto";
import { JoseTokenVerifier } from "../../adapters/auth/jose-token-verifier.ts";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { createApolloServer } from "../api/create-apollo-server.ts";
import { buildGraphQLSchema } from "../api/graphql-schema.ts";
import { createGraphQLContext } from "../api/graphql-context-factory.ts";
import { credentialsFromHeaders } from "../api/request-credentials.ts";
import { wireServices } from "../api/wire-services.ts";
import { parseConfig, parseOptionalConfig } from "../config/parse-config.ts";
import { createLogger } from "../logger.ts";
import { createObjectStore } from "../object-store-factory.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";

/** Events go out through NOTIFY only when published; a Lambda never listens. */
function publishOnlyBus(bus: PgNotifyResultBus): ResultBus {
  return { publish: (e) => bus.publish(e), subscribe: () => () => {} };
}

/**
 * Builds the Lambda handler from an environment (normally `process.env`, parsed once at cold start).
 * Requires DATABASE_URL and JWT_SECRET; OBJECT_STORE should be `s3` in AWS.
 */
export function createLambdaHandler(environment: Record<string, string | undefined>) {
  const env = parseConfig(environment, [
    "DATABASE_URL", "LOG_LEVEL", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "GRAPHQL_INTROSPECTION", "GRAPHQL_MAX_DEPTH",
    "GRAPHQL_MAX_COST", "OBJECT_STORE", "LOCAL_STORE_DIR", "AWS_REGION", "UPLOAD_MAX_BYTES", "UPLOAD_URL_TTL_SECONDS", "PUBLIC_URL",
  ]);
  const s3 = parseOptionalConfig(environment, ["S3_BUCKET", "S3_ENDPOINT", "AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"]);
  const logger = createLogger(env.LOG_LEVEL, { mode: "lambda" });
  // One connection per warm Lambda; RDS Proxy pools across instances.
  const prisma = createPgPrismaClient(env.DATABASE_URL, 1);
  const notify = new PgNotifyResultBus(env.DATABASE_URL, async () => null);
  const services = wireServices({
    prisma, store: createObjectStore({ ...env, ...s3 }, () => env.PUBLIC_URL ?? ""), bus: publishOnlyBus(notify),
    tokens: new JoseTokenVerifier({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE }), logger,
    uploadMaxBytes: env.UPLOAD_MAX_BYTES, uploadUrlTtlSeconds: env.UPLOAD_URL_TTL_SECONDS,
  });
  const server = createApolloServer({ schema: buildGraphQLSchema(), logger, introspection: env.GRAPHQL_INTROSPECTION, maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST });
  const handler = startServerAndCreateLambdaHandler(server as never, handlers.createAPIGatewayProxyEventV2RequestHandler(), {
    context: async ({ event }) => {
      const headers = Object.fromEntries(Object.entries(event.headers ?? {}).map(([k, v]) => [k.toLowerCase(), v]));
      return createGraphQLContext(services, credentialsFromHeaders((n) => headers[n]), event.requestContext?.requestId ?? randomUUID());
    },
  });
  return Object.assign(handler, {
    /** Releases connections (tests). */
    async dispose() {
      await server.stop();
      await prisma.$disconnect();
      await notify.close();
    },
  });
}
