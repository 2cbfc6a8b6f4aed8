// The API as an AWS Lambda handler behind API Gateway (HTTP API, payload v2): same schema, resolvers
// and services as the standalone server. Subscriptions go through API Gateway WebSocket
// (app/lambda-websocket.ts). A job's tasks are sent to SQS before the mutation answers. It also answers
// GET /slices/:id/preview.png, GET /jobs/:id/masks.nii.gz and the web viewer (/, /viewer/…), as the
// standalone server does; the viewer it serves streams from the WebSocket API (VIEWER_STREAM_URL).
import { handlers, startServerAndCreateLambdaHandler } from "@as-integrations/aws-lambda";
import { randomUUID } from "node:crypto";
import type { APIGatewayProxyEventV2, Callback, Context } from "aws-lambda";
import { JoseTokenVerifier } from "../../adapters/auth/jose-token-verifier.ts";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { createSqsClient } from "../../adapters/sqs/sqs-client.ts";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import { createApolloServer } from "../api/create-apollo-server.ts";
import { buildGraphQLSchema } from "../api/graphql-schema.ts";
import { createGraphQLContext } from "../api/graphql-context-factory.ts";
import { credentialsFromHeaders } from "../api/request-credentials.ts";
import { slicePreview } from "../api/slice-preview-route.ts";
import { jobMasks } from "../api/job-masks-route.ts";
import { lambdaBinaryResponse } from "../api/binary-route.ts";
import { type ViewerConfig, type ViewerRouteResponse, viewerRoute } from "../api/viewer-route.ts";
import { wireServices, type WiredServices } from "../api/wire-services.ts";
import { staticAwsCredentials } from "../aws-credentials.ts";
import { parseConfig, parseOptionalConfig } from "../config/parse-config.ts";
import { createLogger } from "../logger.ts";
import { createObjectStore } from "../object-store-factory.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";
import type { Credentials } from "../../core/services/auth.service.ts";
import { dispatchAfterRequest, JobTaskDispatcher } from "./dispatch-stored-tasks.ts";
import { API_LAMBDA_OPTIONAL_VARIABLES, API_LAMBDA_VARIABLES } from "./lambda-environment.ts";

const PREVIEW_PATH = /^\/slices\/([^/]+)\/preview\.png$/;
const MASKS_PATH = /^\/jobs\/([^/]+)\/masks\.nii\.gz$/;

/** A request header by lower-case `name` (API Gateway keeps header names as sent). */
function headerOf(event: { headers?: Record<string, string | undefined> }, name: string): string | undefined {
  return Object.entries(event.headers ?? {}).find(([k]) => k.toLowerCase() === name)?.[1];
}

/** The request's credentials. */
function credentialsOf(event: { headers?: Record<string, string | undefined> }): Credentials {
  return credentialsFromHeaders((n) => headerOf(event, n));
}

/** A viewer answer as API Gateway (payload v2) wants it: the body base64-encoded, whatever its type. */
function lambdaViewerResponse(out: ViewerRouteResponse): { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded: true } {
  return { statusCode: out.status, headers: { ...out.headers }, body: Buffer.from(out.body).toString("base64"), isBase64Encoded: true };
}

/** Events go out through NOTIFY only when published; a Lambda never listens. */
function publishOnlyBus(bus: PgNotifyResultBus): ResultBus {
  return { publish: (e) => bus.publish(e), subscribe: () => () => {} };
}

/**
 * Builds the Lambda handler from an environment (normally `process.env`, parsed once at cold start).
 * Requires DATABASE_URL, JWT_SECRET, DICOM_UID_SECRET (in AWS each resolved from its own Secrets Manager
 * secret at cold start, infra/lib/runtime/lambda-secrets-bootstrap.ts) and SQS_QUEUE_URL; OBJECT_STORE
 * should be `s3` in AWS. VIEWER_STREAM_URL (optional, the WebSocket API stage's URL) is where the viewer it
 * serves streams jobs from; unset, its GET /viewer/config.json says `{ "stream": null }`.
 * `requestSegmentation` sends the new job's tasks to SQS before it answers (at-least-once: a task it
 * could not send is left in the outbox for the scheduled relay, app/lambda-outbox-relay.ts).
 */
export function createLambdaHandler(environment: Record<string, string | undefined>) {
  const env = parseConfig(environment, API_LAMBDA_VARIABLES);
  const optional = parseOptionalConfig(environment, API_LAMBDA_OPTIONAL_VARIABLES);
  const logger = createLogger(env.LOG_LEVEL, { mode: "lambda" });
  // One connection per warm Lambda; RDS Proxy pools across instances.
  const prisma = createPgPrismaClient(env.DATABASE_URL, 1);
  const notify = new PgNotifyResultBus(env.DATABASE_URL, async () => null);
  const sqs = createSqsClient({ region: env.AWS_REGION, endpoint: optional.SQS_ENDPOINT, credentials: staticAwsCredentials(optional) });
  const dispatcher = new JobTaskDispatcher(prisma, new SqsTaskQueue(sqs, env.SQS_QUEUE_URL), logger);
  // No `queue`: the in-process relay kick is fire-and-forget, which a frozen Lambda would never finish.
  const wired = wireServices({
    prisma, store: createObjectStore({ ...env, ...optional }, () => env.PUBLIC_URL ?? ""), bus: publishOnlyBus(notify),
    tokens: new JoseTokenVerifier({ secret: env.JWT_SECRET, issuer: env.JWT_ISSUER, audience: env.JWT_AUDIENCE }), logger,
    uploadMaxBytes: env.UPLOAD_MAX_BYTES, uploadUrlTtlSeconds: env.UPLOAD_URL_TTL_SECONDS, dicomUidSecret: env.DICOM_UID_SECRET,
  });
  const services: WiredServices = { ...wired, segmentation: dispatchAfterRequest(wired.segmentation, (job) => dispatcher.dispatch(job)) };
  const viewer: ViewerConfig = { stream: optional.VIEWER_STREAM_URL ? { protocol: "apigw", url: optional.VIEWER_STREAM_URL } : null };
  const server = createApolloServer({ schema: buildGraphQLSchema(), logger, introspection: env.GRAPHQL_INTROSPECTION, maxDepth: env.GRAPHQL_MAX_DEPTH, maxCost: env.GRAPHQL_MAX_COST });
  const handler = startServerAndCreateLambdaHandler(server as never, handlers.createAPIGatewayProxyEventV2RequestHandler(), {
    context: async ({ event }) => createGraphQLContext(services, credentialsOf(event), event.requestContext?.requestId ?? randomUUID()),
  });
  // GET /slices/:id/preview.png, GET /jobs/:id/masks.nii.gz and the viewer (app/api/) are answered here; every other route is Apollo's.
  const withRoutes = async (event: APIGatewayProxyEventV2, context: Context, callback: Callback): Promise<unknown> => {
    const get = event.requestContext?.http?.method === "GET";
    const path = event.rawPath ?? "";
    const page = get ? await viewerRoute(path, viewer, headerOf(event, "if-none-match")) : null;
    if (page) return lambdaViewerResponse(page);
    const preview = get ? PREVIEW_PATH.exec(path)?.[1] : undefined;
    if (preview !== undefined) return lambdaBinaryResponse(await slicePreview(services, credentialsOf(event), decodeURIComponent(preview), event.queryStringParameters?.["window"]));
    const masks = get ? MASKS_PATH.exec(path)?.[1] : undefined;
    if (masks !== undefined) return lambdaBinaryResponse(await jobMasks(services, credentialsOf(event), decodeURIComponent(masks), event.queryStringParameters?.["series"]));
    return handler(event as never, context, callback);
  };
  return Object.assign(withRoutes, {
    /** Releases connections (tests). */
    async dispose() {
      await server.stop();
      sqs.destroy();
      await prisma.$disconnect();
      await notify.close();
    },
  });
}
