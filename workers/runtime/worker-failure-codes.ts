// Job error codes the worker runtime itself sets (job.errorCode), besides the handler's own codes.

import { WORKER_FAILURE_CODES } from "../../core/errors/job-failure-codes.ts";

/** Codes the runtime writes to a job's errorCode (defined in core's catalogue, re-exported here). */
export { WORKER_FAILURE_CODES };

/** Union of {@link WORKER_FAILURE_CODES}. */
export type WorkerFailureCode = (typeof WORKER_FAILURE_CODES)[keyof typeof WORKER_FAILURE_CODES];
