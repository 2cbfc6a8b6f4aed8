// The coded error the inference engine, the methods and the pipeline throw.

/**
 * Every code an inference failure may carry, one doc line each. Permanent unless noted: a worker
 * marks the slice/task FAILED with the code and acks the message.
 */
export const INFERENCE_ERROR_CODES = {
  /** No models/<key>/model.json (or the key is malformed): the model is not in the registry. */
  MODEL_NOT_FOUND: "MODEL_NOT_FOUND",
  /** model.onnx does not hash to the sha256 (or size) its model.json declares: refused, never run. */
  MODEL_INTEGRITY_FAILED: "MODEL_INTEGRITY_FAILED",
  /** model.json is not a valid spec (docs/MODEL-SPEC.md), or the ONNX graph's inputs/outputs differ from it. */
  MODEL_SPEC_INVALID: "MODEL_SPEC_INVALID",
  /** The model exists but has the wrong kind for the method (e.g. a classifier given as COIN generator). */
  MODEL_KIND_MISMATCH: "MODEL_KIND_MISMATCH",
  /** Method parameters or input tensors are malformed (bad N, s, p1, shape, batch size). */
  INVALID_METHOD_INPUT: "INVALID_METHOD_INPUT",
  /** ONNX Runtime failed while running a session (transient: the task is retried). */
  INFERENCE_FAILED: "INFERENCE_FAILED",
} as const;

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
