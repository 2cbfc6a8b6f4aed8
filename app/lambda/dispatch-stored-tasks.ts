// The API Lambda's half of dispatch: send the outbox rows of a job it just stored, before it returns.
import type { Logger } from "pino";
import type { Db } from "../../adapters/prisma/prisma-client.ts";
import { PrismaScopedOutbox } from "../../adapters/prisma/prisma-scoped-outbox.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { TaskQueue } from "../../core/ports/task-queue.port.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import type { SegmentationService } from "../../core/services/segmentation.service.ts";
import { OutboxWithDeadline } from "./outbox-with-deadline.ts";

/**
 * How long `requestSegmentation` may spend sending a job's tasks, in milliseconds. A job of n slices is
 * ⌈n/16⌉ messages, sent 10 per SendMessageBatch and marked row by row: a few hundred messages fit
 * easily, but a 200 000-slice bulk job (12 500 messages) would not fit the API's 28 s timeout. Past
 * the budget the rest waits for the scheduled relay (within OUTBOX_RELAY_MIN_AGE_SECONDS + 1 min).
 */
export const INLINE_DISPATCH_BUDGET_MS = 5_000;

/**
 * Sends one job's outbox rows to the queue (SendMessageBatch through {@link OutboxRelay}, so accepted
 * rows are marked dispatched and refused ones get a failed attempt). Only that job's rows: concurrent
 * API Lambdas never send each other's tasks. What it cannot send, or has no time left to send, stays
 * in the outbox for the scheduled relay (app/lambda-outbox-relay.ts), which runs every minute.
 */
export class JobTaskDispatcher {
  constructor(
    private readonly db: Db,
    private readonly queue: TaskQueue,
    private readonly logger: Logger,
    private readonly budgetMs = INLINE_DISPATCH_BUDGET_MS,
    private readonly clock: () => number = Date.now,
  ) {}

  /**
   * Sends the job's pending tasks now, for at most the budget. Never rejects: a failure is logged
   * (warn) and left to the scheduled relay. Returns how many tasks were sent.
   */
  async dispatch(job: Pick<SegmentationJob, "id" | "organizationId">): Promise<number> {
    const outbox = new OutboxWithDeadline(new PrismaScopedOutbox(this.db, { job: { organizationId: job.organizationId, jobId: job.id } }), this.clock() + this.budgetMs, this.clock);
    try {
      const sent = await new OutboxRelay(outbox, this.queue).drain();
      if (outbox.expired) this.logger.info({ jobId: job.id, sent }, "inline dispatch budget spent; the scheduled outbox relay sends the job's other tasks");
      return sent;
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
