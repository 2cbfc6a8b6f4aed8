// Publishes each job event on several buses (e.g. NOTIFY for API servers + API Gateway for WebSocket clients).
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";

/** {@link ResultBus} that publishes on every bus and subscribes on the first. */
export class FanOutResultBus implements ResultBus {
  constructor(private readonly buses: readonly [ResultBus, ...ResultBus[]]) {}

  async publish(event: JobEventV1): Promise<void> {
    const outcomes = await Promise.allSettled(this.buses.map((b) => b.publish(event)));
    const failed = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    if (failed) throw failed.reason;
  }

  subscribe(jobId: string, listener: (event: JobEventV1) => void): () => void {
    return this.buses[0].subscribe(jobId, listener);
  }
}
