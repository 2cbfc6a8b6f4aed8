// The Apollo Server shared by the standalone server and the Lambda handler.
import { ApolloServer, type ApolloServerPlugin } from "@apollo/server";
import { ApolloServerPluginLandingPageDisabled } from "@apollo/server/plugin/disabled";
import type { GraphQLSchema } from "graphql";
import type { Logger } from "pino";
import type { GraphQLContext } from "../../resolvers/graphql-context.ts";
import { isDomainError } from "../../core/errors/domain-error.ts";
import { createErrorFormatter } from "./format-error.ts";
import { costError, depthLimitRule, operationCost, type OperationLimits } from "./operation-limits.ts";

/** Options of {@link createApolloServer}. */
export interface ApolloOptions extends OperationLimits {
  readonly schema: GraphQLSchema;
  readonly logger: Logger;
  readonly introspection: boolean;
  readonly plugins?: ApolloServerPlugin<GraphQLContext>[];
}

/** Checks each operation's cost with its real variables, after validation. */
function costPlugin(schema: GraphQLSchema, maxCost: number): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart() {
      return {
        async didResolveOperation({ document, request, operationName }) {
          const cost = operationCost(schema, document, request.variables ?? {}, operationName);
          if (cost !== null && cost > maxCost) throw costError(cost, maxCost);
        },
      };
    },
  };
}

/** Logs one line per operation: request id, operation name, duration, error codes (never variables). */
function requestLogPlugin(logger: Logger): ApolloServerPlugin<GraphQLContext> {
  return {
    async requestDidStart({ contextValue }) {
      const startedAt = performance.now();
      const log = logger.child({ requestId: contextValue.requestId });
      return {
        async willSendResponse({ operationName, errors }) {
          const codes = (errors ?? []).map((e) => (isDomainError(e.originalError) ? e.originalError.code : (e.extensions?.code ?? "INTERNAL_SERVER_ERROR")));
          log.info({ operationName: operationName ?? null, durationMs: Math.round((performance.now() - startedAt) * 10) / 10, errorCodes: codes }, "graphql operation");
        },
      };
    },
  };
}

/** Creates (does not start) the Apollo Server with error formatting and depth/cost limits. */
export function createApolloServer(options: ApolloOptions): ApolloServer<GraphQLContext> {
  return new ApolloServer<GraphQLContext>({
    schema: options.schema,
    introspection: options.introspection,
    formatError: createErrorFormatter(options.logger),
    validationRules: [depthLimitRule(options.maxDepth)],
    includeStacktraceInErrorResponses: false,
    plugins: [ApolloServerPluginLandingPageDisabled(), costPlugin(options.schema, options.maxCost), requestLogPlugin(options.logger), ...(options.plugins ?? [])],
  });
}
