// The environment variables each Lambda entry point parses (names only, so infra tests can check the
// stack against them without loading the handlers). Every name is a key of app/config/env-schema.ts.
import { AWS_CREDENTIAL_VARIABLES } from "../aws-credentials.ts";

/** Variables the API Lambda parses (required ones fail the cold start when missing); infra/ sets these. */
export const API_LAMBDA_VARIABLES = [
  "DATABASE_URL", "LOG_LEVEL", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "DICOM_UID_SECRET", "GRAPHQL_INTROSPECTION", "GRAPHQL_MAX_DEPTH",
  "GRAPHQL_MAX_COST", "OBJECT_STORE", "LOCAL_STORE_DIR", "AWS_REGION", "UPLOAD_MAX_BYTES", "UPLOAD_URL_TTL_SECONDS", "PUBLIC_URL", "SQS_QUEUE_URL",
] as const;

/** Variables the API Lambda parses as optional. */
export const API_LAMBDA_OPTIONAL_VARIABLES = ["S3_BUCKET", "S3_ENDPOINT", "SQS_ENDPOINT", "VIEWER_STREAM_URL", ...AWS_CREDENTIAL_VARIABLES] as const;

/** Variables the WebSocket Lambda parses; infra/ sets these (APIGW_MANAGEMENT_ENDPOINT is required here). */
export const WEBSOCKET_LAMBDA_VARIABLES = ["DATABASE_URL", "LOG_LEVEL", "JWT_SECRET", "JWT_ISSUER", "JWT_AUDIENCE", "AWS_REGION"] as const;

/** Variables the WebSocket Lambda parses as optional (in the schema; the handler requires the endpoint). */
export const WEBSOCKET_LAMBDA_OPTIONAL_VARIABLES = ["APIGW_MANAGEMENT_ENDPOINT", ...AWS_CREDENTIAL_VARIABLES] as const;

/** Variables the relay Lambda parses; infra/ sets these. */
export const OUTBOX_RELAY_VARIABLES = ["DATABASE_URL", "LOG_LEVEL", "AWS_REGION", "SQS_QUEUE_URL", "OUTBOX_RELAY_MIN_AGE_SECONDS"] as const;

/** Variables the relay Lambda parses as optional. */
export const OUTBOX_RELAY_OPTIONAL_VARIABLES = ["SQS_ENDPOINT", ...AWS_CREDENTIAL_VARIABLES] as const;
