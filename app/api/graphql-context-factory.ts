// Turns request credentials into the per-request GraphQL context.
import { randomUUID } from "node:crypto";
import { GraphQLError } from "graphql";
import { isDomainError } from "../../core/errors/domain-error.ts";
import type { Credentials } from "../../core/services/auth.service.ts";
import { createDataLoaders } from "../../resolvers/data-loaders.ts";
import type { GraphQLContext } from "../../resolvers/graphql-context.ts";
import type { WiredServices } from "./wire-services.ts";

/**
 * Builds a context for a request. Absent credentials give a null principal (resolvers answer
 * UNAUTHENTICATED); invalid ones fail the whole request with UNAUTHENTICATED and HTTP 401.
 */
export async function createGraphQLContext(services: WiredServices, credentials: Credentials, requestId: string = randomUUID()): Promise<GraphQLContext> {
  try {
    const principal = await services.auth.authenticate(credentials);
    return { principal, services, loaders: createDataLoaders(services, principal), requestId };
  } catch (error) {
    if (isDomainError(error, "UNAUTHENTICATED")) {
      throw new GraphQLError(error.message, { extensions: { code: "UNAUTHENTICATED", http: { status: 401 } } });
    }
    throw error;
  }
}
