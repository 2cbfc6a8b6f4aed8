// One HTTP server for GraphQL over HTTP (Apollo + Express), GraphQL over WebSocket (graphql-ws)
// and, with the local object store, PUT /uploads/<token>; GET /slices/:id/preview.png and the web
// viewer at /viewer/.
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { randomUUID } from "node:crypto";
import express from "express";
import { expressMiddleware } from "@as-integrations/express5";
import { ApolloServerPluginDrainHttpServer } from "@apollo/server/plugin/drainHttpServer";
import { WebSocketServer } from "ws";
import { useServer } from "graphql-ws/use/ws";
import {
  getOperationAST, getVariableValues, GraphQLError, NoSchemaIntrospectionCustomRule, parse, specifiedRules, validate,
  type DocumentNode, type ExecutionArgs, type GraphQLSchema, type ValidationRule,
} from "graphql";
import type { SubscribePayload } from "graphql-ws";
import type { Logger } from "pino";
import type { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import type { Principal } from "../../core/domain/principal.ts";
import { createDataLoaders } from "../../resolvers/data-loaders.ts";
import type { GraphQLContext } from "../../resolvers/graphql-context.ts";
import { createApolloServer } from "./create-apollo-server.ts";
import { createErrorFormatter } from "./format-error.ts";
import { createGraphQLContext } from "./graphql-context-factory.ts";
import { slicePreviewHandler } from "./slice-preview-route.ts";
import { jobMasksHandler } from "./job-masks-route.ts";
import { viewerRouter } from "./viewer-routes.ts";
import { costError, depthLimitRule, operationCost } from "./operation-limits.ts";
import { credentialsFromConnectionParams, credentialsFromHeaders } from "./request-credentials.ts";
import type { WiredServices } from "./wire-services.ts";

/** Options of {@link startHttpServer}. */
export interface HttpServerOptions {
  readonly schema: GraphQLSchema;
  readonly services: WiredServices;
  readonly logger: Logger;
  readonly host: string;
  /** 0 picks a free port. */
  readonly port: number;
  readonly introspection: boolean;
  readonly maxDepth: number;
  readonly maxCost: number;
  /** When set, serves PUT /uploads/<token> for this store. */
  readonly localStore?: LocalObjectStore;
  readonly uploadMaxBytes: number;
}

/** A running server. */
export interface RunningHttpServer {
  /** e.g. http://127.0.0.1:4000 */
  readonly baseUrl: string;
  /** e.g. http://127.0.0.1:4000/graphql (ws:// for subscriptions on the same path). */
  readonly graphqlUrl: string;
  readonly port: number;
  readonly httpServer: Server;
  /** Stops accepting connections, closes WebSockets, drains requests. */
  close(): Promise<void>;
}

/**
 * Validation rules of operations over WebSocket: graphql's, the depth limit, and, when
 * introspection is off, graphql's NoSchemaIntrospectionCustomRule (Apollo applies its own
 * equivalent rule on HTTP).
 */
function webSocketRules(o: Pick<HttpServerOptions, "introspection" | "maxDepth">): ValidationRule[] {
  return [...specifiedRules, depthLimitRule(o.maxDepth), ...(o.introspection ? [] : [NoSchemaIntrospectionCustomRule])];
}

/** `error` with `code` in its extensions unless it already has a code. */
function withCode(error: GraphQLError, code: string): GraphQLError {
  if (typeof error.extensions["code"] === "string") return error;
  return new GraphQLError(error.message, {
    nodes: error.nodes ?? null, source: error.source ?? null, positions: error.positions ?? null, path: error.path ?? null,
    originalError: error.originalError ?? null, extensions: { ...error.extensions, code },
  });
}

/**
 * The checks Apollo makes on HTTP, made on an operation received over graphql-ws before it runs:
 * parse (GRAPHQL_PARSE_FAILED), validate with `rules` (GRAPHQL_VALIDATION_FAILED, QUERY_TOO_DEEP),
 * the operation name (OPERATION_RESOLUTION_FAILURE), the variables (BAD_USER_INPUT) and the cost
 * with those variables (QUERY_TOO_COSTLY). Returns the coded errors, which graphql-ws sends as the
 * operation's `error` message, or the execution arguments. Left to graphql-ws, a syntax error
 * would close the whole socket (4500) and the other errors would reach clients without a code.
 */
function checkWebSocketOperation(schema: GraphQLSchema, payload: SubscribePayload, rules: readonly ValidationRule[], maxCost: number): ExecutionArgs | GraphQLError[] {
  let document: DocumentNode;
  try {
    document = parse(payload.query);
  } catch (error) {
    if (error instanceof GraphQLError) return [withCode(error, "GRAPHQL_PARSE_FAILED")];
    throw error;
  }
  const invalid = validate(schema, document, rules);
  if (invalid.length > 0) return invalid.map((e) => withCode(e, "GRAPHQL_VALIDATION_FAILED"));
  const operation = getOperationAST(document, payload.operationName);
  if (!operation) {
    const message = payload.operationName ? `unknown operation named "${payload.operationName}"` : "the document must name the operation to run";
    return [new GraphQLError(message, { extensions: { code: "OPERATION_RESOLUTION_FAILURE" } })];
  }
  const variables = payload.variables ?? {};
  const coerced = getVariableValues(schema, operation.variableDefinitions ?? [], variables);
  if (coerced.errors) return coerced.errors.map((e) => withCode(e, "BAD_USER_INPUT"));
  const cost = operationCost(schema, document, variables, payload.operationName);
  if (cost !== null && cost > maxCost) return [costError(cost, maxCost)];
  return { schema, document, variableValues: variables, operationName: payload.operationName ?? null };
}

/** Starts the server and resolves once it listens. */
export async function startHttpServer(o: HttpServerOptions): Promise<RunningHttpServer> {
  const app = express();
  app.disable("x-powered-by");
  const httpServer = createServer(app);
  const wsServer = new WebSocketServer({ server: httpServer, path: "/graphql" });
  const formatError = createErrorFormatter(o.logger);
  const wsRules = webSocketRules(o);

  const wsCleanup = useServer<Record<string, unknown>, { principal?: Principal | null }>(
    {
      schema: o.schema,
      onSubscribe: (_ctx, _id, payload) => checkWebSocketOperation(o.schema, payload, wsRules, o.maxCost),
      onConnect: async (ctx) => {
        try {
          ctx.extra.principal = await o.services.auth.authenticate(credentialsFromConnectionParams(ctx.connectionParams));
          return true;
        } catch {
          return false; // fatal: closes with 4403 Forbidden
        }
      },
      context: (ctx): GraphQLContext => {
        const principal = ctx.extra.principal ?? null;
        return { principal, services: o.services, loaders: createDataLoaders(o.services, principal), requestId: randomUUID() };
      },
      onNext: (_ctx, _id, _payload, _args, result) => (result.errors ? { ...result, errors: result.errors.map((e) => formatError(e.toJSON(), e)) } : result),
      onError: (_ctx, _id, _payload, errors) => errors.map((e) => formatError(e.toJSON(), e) as GraphQLError),
    },
    wsServer,
  );

  const apollo = createApolloServer({
    schema: o.schema, logger: o.logger, introspection: o.introspection, maxDepth: o.maxDepth, maxCost: o.maxCost,
    plugins: [
      ApolloServerPluginDrainHttpServer({ httpServer }),
      { async serverWillStart() { return { async drainServer() { await wsCleanup.dispose(); } }; } },
    ],
  });
  await apollo.start();

  app.get("/healthz", (_req, res) => void res.json({ ok: true }));
  app.get("/slices/:id/preview.png", slicePreviewHandler({ auth: o.services.auth, studies: o.services.studies }));
  app.get("/jobs/:id/masks.nii.gz", jobMasksHandler({ auth: o.services.auth, segmentation: o.services.segmentation }));
  app.use("/viewer", viewerRouter());
  app.get("/", (_req, res) => void res.redirect(302, "/viewer/"));
  app.get("/favicon.ico", (_req, res) => void res.status(204).end());
  if (o.localStore) {
    const store = o.localStore;
    app.put("/uploads/:token", express.raw({ type: () => true, limit: o.uploadMaxBytes }), async (req, res, next) => {
      try {
        const grant = store.verifyUploadToken(String(req.params.token));
        if (!grant) return void res.status(403).json({ code: "UPLOAD_NOT_FOUND", message: "invalid or expired upload URL" });
        const body: unknown = req.body;
        const bytes = Buffer.isBuffer(body) ? body : Buffer.alloc(0);
        if (bytes.length === 0) return void res.status(400).json({ code: "UPLOAD_EMPTY", message: "the upload is empty" });
        await store.put(grant.key, new Uint8Array(bytes.buffer, bytes.byteOffset, bytes.length));
        res.status(200).json({ uploadKey: grant.key, sizeBytes: bytes.length });
      } catch (error) {
        next(error);
      }
    });
  }
  app.use(
    "/graphql",
    express.json({ limit: "1mb" }),
    expressMiddleware(apollo, {
      context: async ({ req }) => createGraphQLContext(o.services, credentialsFromHeaders((n) => req.get(n)), String(req.get("x-request-id") ?? randomUUID())),
    }),
  );
  app.use((error: unknown, _req: express.Request, res: express.Response, _next: express.NextFunction) => {
    const status = (error as { status?: number }).status ?? 500;
    if (status === 413) return void res.status(413).json({ code: "UPLOAD_TOO_LARGE", message: `the upload exceeds ${o.uploadMaxBytes} bytes` });
    if (status === 400) return void res.status(400).json({ code: "BAD_REQUEST", message: "malformed request body" });
    const errorId = randomUUID();
    o.logger.error({ errorId, err: error }, "unexpected HTTP error");
    res.status(500).json({ code: "INTERNAL_SERVER_ERROR", errorId });
  });

  await new Promise<void>((resolve, reject) => {
    httpServer.once("error", reject);
    httpServer.listen(o.port, o.host, () => resolve());
  });
  const port = (httpServer.address() as AddressInfo).port;
  const host = o.host.includes(":") ? `[${o.host}]` : o.host;
  const baseUrl = `http://${host}:${port}`;
  return {
    baseUrl,
    graphqlUrl: `${baseUrl}/graphql`,
    port,
    httpServer,
    async close() {
      await apollo.stop();
    },
  };
}
