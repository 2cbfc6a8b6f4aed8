// The executable schema: SDL from schema/ plus the resolvers.
import { makeExecutableSchema } from "@graphql-tools/schema";
import type { GraphQLSchema } from "graphql";
import { resolvers } from "../../resolvers/resolvers.ts";
import { loadTypeDefs } from "./type-defs.ts";

/** Builds the executable GraphQL schema (cheap; build once per process). */
export function buildGraphQLSchema(): GraphQLSchema {
  return makeExecutableSchema({ typeDefs: loadTypeDefs(), resolvers: resolvers as never });
}
