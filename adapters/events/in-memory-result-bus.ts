// ResultBus inside one process (embedded mode, tests).
import { EventEmitter } from "node:events";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";

/** {@link ResultBus} on an EventEmitter: events reach subscribers of the same process only. */
export class InMemoryResultBus implements ResultBus {
  private readonly emitter = new EventEmitter().setMaxListeners(0);

  async publish(event: JobEventV1): Promise<void> {
    this.emitter.emit(event.jobId, event);
  }

  async publishMany(events: readonly JobEventV1[]): Promise<void> {
    for (const event of events) this.emitter.emit(event.jobId, event);
  }

  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void {
    this.emitter.on(jobId, listener);
    return () => this.emitter.off(jobId, listener);
  }
}
