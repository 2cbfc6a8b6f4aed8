// The HTTP status a coded domain error answers with outside GraphQL (REST-style routes, API Gateway
// WebSocket integrations): the caller's errors by kind, anything else a 400.
import type { ErrorCode } from "../../core/errors/error-codes.ts";

const STATUS_OF: Partial<Record<ErrorCode, 400 | 401 | 403 | 404>> = { BAD_REQUEST: 400, UNAUTHENTICATED: 401, FORBIDDEN: 403, NOT_FOUND: 404 };

/** 401 UNAUTHENTICATED, 403 FORBIDDEN, 404 NOT_FOUND, otherwise 400. */
export function httpStatusOf(code: ErrorCode): 400 | 401 | 403 | 404 {
  return STATUS_OF[code] ?? 400;
}
