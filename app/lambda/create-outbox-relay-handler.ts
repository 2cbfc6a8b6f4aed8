// The scheduled outbox relay (EventBridge, every minute): the safety net of serverless dispatch.
import type { Context, ScheduledEvent } from "aws-lambda";
import { createPgPrismaClient } from "../../adapters/prisma/prisma-client.ts";
import { PrismaScopedOutbox } from "../../adapters/prisma/prisma-scoped-outbox.ts";
import { createSqsClient } from "../../adapters/sqs/sqs-client.ts";
import { SqsTaskQueue } from "../../adapters/sqs/sqs-task-queue.ts";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import { staticAwsCredentials } from "../aws-credentials.ts";
import { parseConfig, parseOptionalConfig } from "../config/parse-config.ts";
import { createLogger } from "../logger.ts";
import { OUTBOX_RELAY_OPTIONAL_VARIABLES, OUTBOX_RELAY_VARIABLES } from "./lambda-environment.ts";
import { OutboxWithDeadline } from "./outbox-with-deadline.ts";

/** Time kept free before the invocation's timeout to finish the batch in hand, in milliseconds. */
const RUN_MARGIN_MS = 10_000;

/**
 * Builds the handler. Each invocation sends every outbox row older than OUTBOX_RELAY_MIN_AGE_SECONDS
 * that is still undispatched and unclaimed: tasks whose API Lambda crashed (or met an SQS error)
 * between the job's commit and its send. Younger rows are left to the API Lambda that is sending
 * them; both claim what they send, so they never send one task twice while a claim's lease holds
 * (PROTOCOL.md §2; a re-send after an expired lease is absorbed by the worker's idempotency, §5).
 * A row SQS refuses gets a failed attempt and the invocation fails (Lambda Errors → alarm); the next
 * minute retries it.
 * @returns per invocation, how many tasks were sent
 */
export function createOutboxRelayHandler(environment: Record<string, string | undefined>) {
  const env = parseConfig(environment, OUTBOX_RELAY_VARIABLES);
  const optional = parseOptionalConfig(environment, OUTBOX_RELAY_OPTIONAL_VARIABLES);
  const logger = createLogger(env.LOG_LEVEL, { mode: "outbox-relay" });
  const prisma = createPgPrismaClient(env.DATABASE_URL, 1);
  const sqs = createSqsClient({ region: env.AWS_REGION, endpoint: optional.SQS_ENDPOINT, credentials: staticAwsCredentials(optional) });
  const minAgeMs = env.OUTBOX_RELAY_MIN_AGE_SECONDS * 1000;
  const outbox = new PrismaScopedOutbox(prisma, { createdBefore: () => new Date(Date.now() - minAgeMs) });
  const queue = new SqsTaskQueue(sqs, env.SQS_QUEUE_URL);

  /**
   * One run: drains until the backlog is empty or the invocation is within RUN_MARGIN_MS of its
   * timeout (Lambda's `getRemainingTimeInMillis`; unbounded without a context, as in tests).
   */
  async function handler(_event?: ScheduledEvent, context?: Pick<Context, "getRemainingTimeInMillis">): Promise<{ dispatched: number }> {
    const deadline = context ? Date.now() + context.getRemainingTimeInMillis() - RUN_MARGIN_MS : Number.POSITIVE_INFINITY;
    const dispatched = await new OutboxRelay(new OutboxWithDeadline(outbox, deadline), queue).drain();
    // Non-zero means the primary path (the API sending its own job's tasks) missed them: worth seeing.
    if (dispatched > 0) logger.warn({ dispatched, minAgeSeconds: env.OUTBOX_RELAY_MIN_AGE_SECONDS }, "scheduled relay sent tasks the API had not sent");
    return { dispatched };
  }
  return Object.assign(handler, {
    /** Releases connections (tests). */
    async dispose() {
      sqs.destroy();
      await prisma.$disconnect();
    },
  });
}
