// Publishes each job event on several buses (e.g. NOTIFY for API servers + API Gateway for WebSocket clients).
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import { publishInOrder, type ResultBus } from "../../core/ports/result-bus.port.ts";

/** {@link ResultBus} that publishes on every bus and subscribes on the first. */
export class FanOutResultBus implements ResultBus {
  constructor(private readonly buses: readonly [ResultBus, ...ResultBus[]]) {}

  async publish(event: JobEventV1): Promise<void> {
    await this.onEvery((bus) => bus.publish(event));
  }

  /** Each bus gets the whole batch at once (one NOTIFY statement, one registry lookup), in order. */
  async publishMany(events: readonly JobEventV1[]): Promise<void> {
    await this.onEvery((bus) => publishInOrder(bus, events));
  }

  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void {
    return this.buses[0].subscribe(jobId, listener);
  }

  /** Runs `send` on every bus; a failing bus does not stop the others, and its error is rethrown after. */
  private async onEvery(send: (bus: ResultBus) => Promise<void>): Promise<void> {
    const outcomes = await Promise.allSettled(this.buses.map(send));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  }
}
