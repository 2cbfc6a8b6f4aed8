// Maps any error to the client-facing shape: a catalogued `extensions.code`, no stack, no internals.
import { randomUUID } from "node:crypto";
import type { GraphQLFormattedError } from "graphql";
import { unwrapResolverError } from "@apollo/server/errors";
import type { Logger } from "pino";
import { isDomainError } from "../../core/errors/domain-error.ts";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";
import { isImagingError } from "../../imaging/errors/imaging-error.ts";

const KNOWN = new Set<string>(Object.values(ERROR_CODES));

/**
 * Returns a formatter for Apollo's `formatError` (and graphql-ws's onError): domain and imaging
 * errors keep their code and details; GraphQL/Apollo request errors keep their code; anything else
 * becomes INTERNAL_SERVER_ERROR with an `errorId` that is logged together with the stack.
 */
export function createErrorFormatter(logger: Logger): (formatted: GraphQLFormattedError, error: unknown) => GraphQLFormattedError {
  return (formatted, error) => {
    const original = unwrapResolverError(error);
    const base = { message: formatted.message, locations: formatted.locations, path: formatted.path };
    if (isDomainError(original)) return { ...base, message: original.message, extensions: { ...original.details, code: original.code } };
    if (isImagingError(original)) return { ...base, message: original.message, extensions: { code: original.code } };
    const ext = formatted.extensions ?? {};
    // Our validation rules set their own code; Apollo overwrites it with GRAPHQL_VALIDATION_FAILED.
    const limitCode = "maxDepth" in ext ? "QUERY_TOO_DEEP" : "maxCost" in ext ? "QUERY_TOO_COSTLY" : null;
    if (limitCode) {
      const { stacktrace: _s, ...rest } = ext as Record<string, unknown>;
      return { ...base, extensions: { ...rest, code: limitCode } };
    }
    const code = typeof ext.code === "string" ? ext.code : null;
    if (code && code !== "INTERNAL_SERVER_ERROR" && KNOWN.has(code)) {
      return { ...base, extensions: { code } };
    }
    const errorId = randomUUID();
    logger.error({ errorId, err: original }, "unexpected error");
    return { message: "internal server error", locations: base.locations, path: base.path, extensions: { code: "INTERNAL_SERVER_ERROR", errorId } };
  };
}
