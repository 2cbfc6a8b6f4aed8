// The WebSocket API's Lambda: $connect, $disconnect, and $default (subscribe / unsubscribe messages).
// Events reach subscribed connections from the workers (ApiGatewayResultBus); PROTOCOL.md §7.
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyStructuredResultV2, APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { subscribeConnection } from "../../adapters/apigw/apigw-job-subscriptions.ts";
import { ApiGatewayResultBus } from "../../adapters/apigw/apigw-result-bus.ts";
import { PrismaWebSocketConnectionRegistry } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import { errorFrame, parseWebSocketClientMessage, type WebSocketClientMessage } from "../../adapters/apigw/websocket-messages.ts";
import { JoseTokenVerifier } from "../../adapters/auth/jose-token-verifier.ts";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { authorize } from "../../core/domain/authorize.ts";
import { isUuid } from "../../core/domain/is-uuid.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { httpStatusOf } from "../api/http-status.ts";
import { credentialsFromConnectionParams } from "../api/request-credentials.ts";
import { staticAwsCredentials } from "../aws-credentials.ts";
import { ConfigError, parseConfig, parseOptionalConfig } from "../config/parse-config.ts";
import { createLogger } from "../logger.ts";
import { WEBSOCKET_LAMBDA_OPTIONAL_VARIABLES, WEBSOCKET_LAMBDA_VARIABLES } from "./lambda-environment.ts";
import { isRegistryCleanupEvent, type RegistryCleanupEvent } from "./registry-cleanup-event.ts";

/**
 * Builds the handler from an environment (normally `process.env`, parsed once at cold start).
 * - `$connect`: accepted (browsers cannot send credentials with the handshake; nothing is sent to a
 *   connection until a `subscribe` authenticates).
 * - `$default`: a JSON message. `subscribe { jobId, afterSlice, apiKey | authorization }` authenticates
 *   (API key or JWT, like the HTTP API), authorises VIEWER on the job's organisation, registers the
 *   connection and replays the job (adapters/apigw/apigw-job-subscriptions.ts); `unsubscribe` drops the
 *   registration. Failures are posted back as ERROR frames: BAD_REQUEST (malformed message),
 *   UNAUTHENTICATED, FORBIDDEN, NOT_FOUND (unknown job, or another organisation's), INTERNAL_SERVER_ERROR
 *   with an errorId (logged with its stack).
 * - `$disconnect`: the registration is removed.
 * - {@link RegistryCleanupEvent} (its EventBridge schedule, not API Gateway): registrations older than
 *   API Gateway's 2 h connection limit are deleted (`removeExpired`): a connection can end without a
 *   `$disconnect` reaching the function, and rows no publisher ever posts to (410 Gone) would stay.
 *   Answers `{ removedConnections }`; a database failure fails the invocation (the next run retries).
 * @throws ConfigError at cold start when DATABASE_URL, JWT_SECRET or APIGW_MANAGEMENT_ENDPOINT is missing.
 */
export function createWebSocketHandler(environment: Record<string, string | undefined>) {
  const env = parseConfig(environment, WEBSOCKET_LAMBDA_VARIABLES);
  const optional = parseOptionalConfig(environment, WEBSOCKET_LAMBDA_OPTIONAL_VARIABLES);
  if (!optional.APIGW_MANAGEMENT_ENDPOINT) throw new ConfigError("invalid environment:\n  APIGW_MANAGEMENT_ENDPOINT: required by the WebSocket Lambda (the stage's callback URL)");
  const logger = createLogger(env.LOG_LEVEL, { mode: "lambda-websocket" });
  // One connection per warm Lambda; RDS Proxy pools across instances.
  const prisma = createPgPrismaClient(env.DATABASE_URL, 1);
  const auth = new AuthService(new PrismaIdentityRepository(prisma), new JoseTokenVerifier({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE }));
  const jobs = new PrismaJobRepository(prisma);
  const registry = new PrismaWebSocketConnectionRegistry(prisma);
  const bus = new ApiGatewayResultBus({
    endpoint: optional.APIGW_MANAGEMENT_ENDPOINT, region: env.AWS_REGION, credentials: staticAwsCredentials(optional), registry,
    onError: (err, connectionId) => logger.warn({ err, connectionId }, "postToConnection failed"),
  });

  async function subscribe(connectionId: string, message: Extract<WebSocketClientMessage, { action: "subscribe" }>): Promise<void> {
    const principal = authorize(await auth.authenticate(credentialsFromConnectionParams(message)), "VIEWER");
    const input = { connectionId, organizationId: principal.organizationId, jobId: message.jobId, afterSlice: message.afterSlice };
    if (!isUuid(message.jobId) || !(await subscribeConnection({ registry, jobs, bus }, input))) {
      throw new DomainError("NOT_FOUND", "segmentation job not found", { entity: "SegmentationJob" });
    }
  }

  async function onMessage(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyStructuredResultV2> {
    const { connectionId, requestId } = event.requestContext;
    const parsed = parseWebSocketClientMessage(event.body, event.isBase64Encoded);
    try {
      if (!parsed.ok) throw new DomainError("BAD_REQUEST", parsed.reason);
      if (parsed.message.action === "unsubscribe") await registry.remove(connectionId);
      else await subscribe(connectionId, parsed.message);
      return { statusCode: 200 };
    } catch (error) {
      if (error instanceof DomainError) {
        await bus.post(connectionId, errorFrame(error.code, error.message));
        return { statusCode: httpStatusOf(error.code) }; // API Gateway logs it; the client gets the ERROR frame
      }
      const errorId = randomUUID();
      logger.error({ err: error, errorId, requestId, connectionId }, "WebSocket message failed");
      await bus.post(connectionId, errorFrame("INTERNAL_SERVER_ERROR", "internal error", errorId));
      return { statusCode: 500 };
    }
  }

  async function removeExpiredConnections(): Promise<{ removedConnections: number }> {
    const removedConnections = await registry.removeExpired();
    logger.info({ removedConnections }, "expired WebSocket registrations removed");
    return { removedConnections };
  }

  function handler(event: RegistryCleanupEvent): Promise<{ removedConnections: number }>;
  function handler(event: APIGatewayProxyWebsocketEventV2): Promise<APIGatewayProxyStructuredResultV2>;
  async function handler(event: APIGatewayProxyWebsocketEventV2 | RegistryCleanupEvent): Promise<APIGatewayProxyStructuredResultV2 | { removedConnections: number }> {
    if (isRegistryCleanupEvent(event)) return removeExpiredConnections();
    const { routeKey, connectionId } = event.requestContext;
    if (routeKey === "$connect") return { statusCode: 200 };
    if (routeKey === "$disconnect") {
      await registry.remove(connectionId);
      return { statusCode: 200 };
    }
    return onMessage(event);
  }

  return Object.assign(handler, {
    /** Releases connections (tests). */
    async dispose() {
      bus.close();
      await prisma.$disconnect();
    },
  });
}
