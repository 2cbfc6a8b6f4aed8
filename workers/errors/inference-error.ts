// The coded error the inference engine, the methods and the pipeline throw.

import { INFERENCE_ERROR_CODES } from "../../core/errors/job-failure-codes.ts";

/** Every code an inference failure may carry (defined in core's catalogue, re-exported here). */
export { INFERENCE_ERROR_CODES };

/** Union of the inference error codes. */
export type InferenceErrorCode = (typeof INFERENCE_ERROR_CODES)[keyof typeof INFERENCE_ERROR_CODES];

/** Codes that retrying cannot fix. */
const PERMANENT: ReadonlySet<InferenceErrorCode> = new Set([
  "MODEL_NOT_FOUND",
  "MODEL_INTEGRITY_FAILED",
  "MODEL_SPEC_INVALID",
  "MODEL_KIND_MISMATCH",
  "INVALID_METHOD_INPUT",
]);

/** An inference failure with a stable code; `message` never contains patient data. */
export class InferenceError extends Error {
  override readonly name = "InferenceError";
  /** True when redelivering the task cannot succeed (see {@link INFERENCE_ERROR_CODES}). */
  readonly permanent: boolean;

  /**
   * @param code one of {@link INFERENCE_ERROR_CODES}
   * @param message human-readable (no PHI)
   * @param options standard `cause`
   */
  constructor(
    readonly code: InferenceErrorCode,
    message: string,
    options?: { cause?: unknown },
  ) {
    super(message, options);
    this.permanent = PERMANENT.has(code);
  }
}

/** True when `error` is an {@link InferenceError}, optionally with the given code. */
export function isInferenceError(error: unknown, code?: InferenceErrorCode): error is InferenceError {
  return error instanceof InferenceError && (code === undefined || error.code === code);
}
