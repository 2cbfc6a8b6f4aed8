// The error type services throw; the API maps `code` to GraphQL `extensions.code`.
import type { ErrorCode } from "./error-codes.ts";

/**
 * A failure the caller can act on. `message` is for humans and never contains PHI;
 * `details` holds extra machine-readable fields (e.g. `{ field: "slices" }`).
 */
export class DomainError extends Error {
  override readonly name = "DomainError";
  constructor(
    readonly code: ErrorCode,
    message: string,
    readonly details: Readonly<Record<string, unknown>> = {},
    options?: { cause?: unknown },
  ) {
    super(message, options);
  }
}

/** True when `error` is a {@link DomainError}, optionally with the given code. */
export function isDomainError(error: unknown, code?: ErrorCode): error is DomainError {
  return error instanceof DomainError && (code === undefined || error.code === code);
}
