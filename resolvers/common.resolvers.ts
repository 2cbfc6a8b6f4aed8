// Resolvers of schema/common.graphql and schema/errors.graphql: scalars, viewer, error codes.
import { DateTimeResolver, JSONResolver } from "graphql-scalars";
import { authorize } from "../core/domain/authorize.ts";
import { ERROR_CODES } from "../core/errors/error-codes.ts";
import type { Resolvers } from "../generated/graphql/resolvers-types.ts";

/** Scalars, `viewer` and `errorCodes`. */
export const commonResolvers: Resolvers = {
  DateTime: DateTimeResolver,
  JSON: JSONResolver,
  Query: {
    viewer: (_parent, _args, ctx) => authorize(ctx.principal, "VIEWER"),
    errorCodes: () => Object.values(ERROR_CODES),
  },
  Viewer: {
    userId: (p) => p.userId,
    organizationId: (p) => p.organizationId,
    role: (p) => p.role,
  },
};
