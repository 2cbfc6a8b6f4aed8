// Job error codes the worker runtime itself sets (job.errorCode), besides the handler's own codes.

/** Codes the runtime writes to a job's errorCode, one doc line each (PROTOCOL.md §Errors). */
export const WORKER_FAILURE_CODES = {
  /** A task failed transiently on every receive up to the redrive limit; the message went to the dead-letter queue. */
  TASK_DEAD_LETTERED: "TASK_DEAD_LETTERED",
  /** The message body is not a valid InferenceTaskV1 (it still goes to the dead-letter queue for inspection). */
  TASK_MALFORMED: "TASK_MALFORMED",
} as const;

/** Union of {@link WORKER_FAILURE_CODES}. */
export type WorkerFailureCode = (typeof WORKER_FAILURE_CODES)[keyof typeof WORKER_FAILURE_CODES];
