// The API Lambda's half of dispatch: send the outbox rows of a job it just stored, before it returns.
import type { Logger } from "pino";
import type { Db } from "../../adapters/prisma/prisma-client.ts";
import { PrismaScopedOutbox } from "../../adapters/prisma/prisma-scoped-outbox.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import type { SegmentationService } from "../../core/services/segmentation.service.ts";

/**
 * Sends one job's outbox rows to the queue (SendMessageBatch through {@link OutboxRelay}, so accepted
 * rows are marked dispatched and refused ones get a failed attempt). Only that job's rows: concurrent
 * API Lambdas never send each other's tasks. What it cannot send stays in the outbox for the
 * scheduled relay (app/lambda-outbox-relay.ts), which runs every minute.
 */
export class JobTaskDispatcher {
  constructor(
    private readonly db: Db,
    private readonly queue: TaskQueue,
    private readonly logger: Logger,
  ) {}

  /** Sends the job's pending tasks now. Never rejects: a failure is logged (warn) and left to the scheduled relay. */
  async dispatch(job: Pick<SegmentationJob, "id" | "organizationId">): Promise<number> {
    const outbox = new PrismaScopedOutbox(this.db, { job: { organizationId: job.organizationId, jobId: job.id } });
    try {
      return await new OutboxRelay(outbox, this.queue).drain();
    } catch (err) {
      this.logger.warn({ err, jobId: job.id }, "sending the job's tasks failed; the scheduled outbox relay will send them");
      return 0;
    }
  }
}

/**
 * The segmentation service with `requestSegmentation` resolving only after `dispatch` has run for the
 * new job. A Lambda is frozen as soon as its handler returns, so the send must finish inside the
 * request, not after it (the services-mode relay kick is fire-and-forget). Every other method is the
 * service's own (the returned object delegates to it through its prototype).
 */
export function dispatchAfterRequest(service: SegmentationService, dispatch: (job: SegmentationJob) => Promise<unknown>): SegmentationService {
  const decorated = Object.create(service) as SegmentationService;
  decorated.requestSegmentation = async (...args) => {
    const job = await service.requestSegmentation(...args);
    await dispatch(job);
    return job;
  };
  return decorated;
}
