// Fan-out of job events to subscribers (in-process, Postgres NOTIFY, or API Gateway WebSocket).
import type { JobEventV1 } from "../domain/job-event.ts";

/** Publishes and delivers {@link JobEventV1} events per job. Delivery is best-effort; subscribers resume from the database. */
export interface ResultBus {
  publish(event: JobEventV1): Promise<void>;
  /**
   * Optional: publishes `events` in order with the same guarantees as one `publish` each, in as few
   * round trips as the transport allows (PostgreSQL: one statement). Use {@link publishInOrder}.
   */
  publishMany?(events: readonly JobEventV1[]): Promise<void>;
  /** Calls `listener` for every event of `jobId` published after this call; returns an unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void;
}

/** Publishes `events` in order: with `publishMany` when the bus has it, otherwise one `publish` after another. */
export async function publishInOrder(bus: ResultBus, events: readonly JobEventV1[]): Promise<void> {
  if (events.length === 0) return;
  if (bus.publishMany) return bus.publishMany(events);
  for (const event of events) await bus.publish(event);
}
