// The serverless subscription: register a WebSocket connection for a job, then replay what it missed.
import type { JobRepository } from "../../core/ports/job-repository.port.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import type { ApiGatewayResultBus } from "./apigw-result-bus.ts";
import type { PrismaWebSocketConnectionRegistry } from "./prisma-websocket-connection-registry.ts";

/**
 * Subscribes API Gateway connection `connectionId` to a job (the caller has already authorised it for
 * `organizationId`): registers it first, so no live event is missed, then posts the job's current
 * STATUS and every stored result with sliceIndex > afterSlice. A result both replayed and published
 * live reaches the client twice; clients drop repeats by result id (PROTOCOL.md §6).
 * @returns false when the job does not exist in the organisation (nothing registered).
 */
export async function subscribeConnection(
  deps: { registry: PrismaWebSocketConnectionRegistry; jobs: JobRepository; bus: ApiGatewayResultBus },
  input: { connectionId: string; organizationId: string; jobId: string; afterSlice: number },
): Promise<boolean> {
  const job = await deps.jobs.findJob(input.organizationId, input.jobId);
  if (!job) return false;
  await deps.registry.register(input);
  await deps.bus.post(input.connectionId, await deps.bus.frame(statusEvent(job)));
  for (const result of await deps.jobs.resultsAfter(input.organizationId, input.jobId, input.afterSlice)) {
    const frame = await deps.bus.frame({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: input.organizationId, jobId: input.jobId, result });
    if (!(await deps.bus.post(input.connectionId, frame))) break;
  }
  return true;
}
