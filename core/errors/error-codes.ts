// The one catalogue of error codes coinseg returns. The GraphQL enum ErrorCode (schema/errors.graphql)
// mirrors it exactly (a test checks), and the API puts the code in `extensions.code`.
import { IMAGING_ERROR_CODES } from "../../imaging/errors/imaging-error.ts";
import { INFERENCE_ERROR_CODES, WORKER_FAILURE_CODES } from "./job-failure-codes.ts";

/** Every error code, one doc line each. */
export const ERROR_CODES = {
  /** No credentials, or credentials that are invalid, expired or revoked. */
  UNAUTHENTICATED: "UNAUTHENTICATED",
  /** The caller is authenticated but its role does not allow the operation. */
  FORBIDDEN: "FORBIDDEN",
  /** The entity does not exist in the caller's organisation (another organisation's ids look the same). */
  NOT_FOUND: "NOT_FOUND",
  /** An argument is malformed or out of range; `extensions.field` names it when known. */
  BAD_USER_INPUT: "BAD_USER_INPUT",
  /** The operation is not allowed in the entity's current state (e.g. cancelling a finished job). */
  INVALID_STATE: "INVALID_STATE",
  /** The uploaded object is empty (0 bytes). */
  UPLOAD_EMPTY: "UPLOAD_EMPTY",
  /** The uploaded object is larger than UPLOAD_MAX_BYTES. */
  UPLOAD_TOO_LARGE: "UPLOAD_TOO_LARGE",
  /** No uploaded object under that key (not uploaded yet, expired, or another organisation's). */
  UPLOAD_NOT_FOUND: "UPLOAD_NOT_FOUND",
  /** The requested model key is not in the registry, or is not usable by the method. */
  UNKNOWN_MODEL: "UNKNOWN_MODEL",
  /** The study has no slices to segment (import pixels first). */
  STUDY_HAS_NO_SLICES: "STUDY_HAS_NO_SLICES",
  /** A label volume's grid (dimensions, spacing, origin, direction) is not the series' it is imported for. */
  GROUND_TRUTH_MISMATCH: "GROUND_TRUTH_MISMATCH",
  /** The operation's selection is nested deeper than GRAPHQL_MAX_DEPTH. */
  QUERY_TOO_DEEP: "QUERY_TOO_DEEP",
  /** The operation's estimated cost exceeds GRAPHQL_MAX_COST. */
  QUERY_TOO_COSTLY: "QUERY_TOO_COSTLY",
  /** The GraphQL document does not parse. */
  GRAPHQL_PARSE_FAILED: "GRAPHQL_PARSE_FAILED",
  /** The GraphQL document is not valid against the schema. */
  GRAPHQL_VALIDATION_FAILED: "GRAPHQL_VALIDATION_FAILED",
  /** A persisted-query hash the server does not know; resend with the query text. */
  PERSISTED_QUERY_NOT_FOUND: "PERSISTED_QUERY_NOT_FOUND",
  /** Persisted queries are disabled on this server. */
  PERSISTED_QUERY_NOT_SUPPORTED: "PERSISTED_QUERY_NOT_SUPPORTED",
  /** The request's operation name does not match an operation of the document. */
  OPERATION_RESOLUTION_FAILURE: "OPERATION_RESOLUTION_FAILURE",
  /** The HTTP request itself is malformed (bad JSON, wrong method, missing query). */
  BAD_REQUEST: "BAD_REQUEST",
  /** An unexpected failure; `extensions.errorId` identifies the server log entry. */
  INTERNAL_SERVER_ERROR: "INTERNAL_SERVER_ERROR",
  ...IMAGING_ERROR_CODES,
  ...INFERENCE_ERROR_CODES,
  ...WORKER_FAILURE_CODES,
} as const;

/** Union of every error code. */
export type ErrorCode = (typeof ERROR_CODES)[keyof typeof ERROR_CODES];
