// Codes a segmentation job or slice can fail with (job.errorCode), set by the inference workers.

/**
 * Inference failures, one doc line each. Permanent unless noted: the worker marks the task FAILED
 * with the code and acks the message.
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

/** Codes the worker runtime itself writes to a job's errorCode (PROTOCOL.md §Errors). */
export const WORKER_FAILURE_CODES = {
  /** A task failed transiently on every receive up to the redrive limit; the message went to the dead-letter queue. */
  TASK_DEAD_LETTERED: "TASK_DEAD_LETTERED",
  /** The message body is not a valid InferenceTaskV1 (it still goes to the dead-letter queue for inspection). */
  TASK_MALFORMED: "TASK_MALFORMED",
} as const;
