// The serverless subscription: register a WebSocket connection for a job, then replay what it missed.
import { isTerminalJobStatus } from "../../core/domain/job-state-machine.ts";
import type { JobRepository } from "../../core/ports/job-repository.port.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import type { ApiGatewayResultBus } from "./apigw-result-bus.ts";
import type { PrismaWebSocketConnectionRegistry } from "./prisma-websocket-connection-registry.ts";

/**
 * Subscribes API Gateway connection `connectionId` to a job (the caller has already authorised it for
 * `organizationId`). While the job runs: registers the connection first, so no live event is missed,
 * then posts the job's current STATUS and every stored result with sliceIndex > afterSlice. A result
 * both replayed and published live reaches the client twice; clients drop repeats by result id
 * (PROTOCOL.md §6). A job that has already ended gets its stored results, then its terminal STATUS
 * last, and no registration: nothing more will be published for it.
 * @returns false when the job does not exist in the organisation (nothing registered, nothing posted).
 */
export async function subscribeConnection(
  deps: { registry: PrismaWebSocketConnectionRegistry; jobs: JobRepository; bus: ApiGatewayResultBus },
  input: { connectionId: string; organizationId: string; jobId: string; afterSlice: number },
): Promise<boolean> {
  const job = await deps.jobs.findJob(input.organizationId, input.jobId);
  if (!job) return false;
  const ended = isTerminalJobStatus(job.status);
  const status = await deps.bus.frame(statusEvent(job));
  if (ended) {
    // A connection that watched another job before must not keep receiving that job's events.
    await deps.registry.remove(input.connectionId);
  } else {
    await deps.registry.register(input);
    if (!(await deps.bus.post(input.connectionId, status))) return true;
  }
  for (const result of await deps.jobs.resultsAfter(input.organizationId, input.jobId, input.afterSlice)) {
    const frame = await deps.bus.frame({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: input.organizationId, jobId: input.jobId, result });
    if (!(await deps.bus.post(input.connectionId, frame))) return true;
  }
  if (ended) await deps.bus.post(input.connectionId, status);
  return true;
}
