// Fan-out of job events to subscribers (in-process, Postgres NOTIFY, or API Gateway WebSocket).
import type { JobEventV1 } from "../domain/job-event.ts";

/** Publishes and delivers {@link JobEventV1} events per job. Delivery is best-effort; subscribers resume from the database. */
export interface ResultBus {
  publish(event: JobEventV1): Promise<void>;
  /** Calls `listener` for every event of `jobId` published after this call; returns an unsubscribe function. */
  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void;
}
