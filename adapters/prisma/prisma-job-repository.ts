// JobRepository (and SliceResultSink) on Prisma: conditional status updates, idempotent result writes,
// and the transactional outbox.
import { randomUUID } from "node:crypto";
import type { JobStatus } from "../../core/domain/enums.ts";
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import { jobStatusesThatCanBecome } from "../../core/domain/job-state-machine.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { SliceResult, SliceResultInput } from "../../core/domain/slice-result.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import type { JobRepository, NewSegmentationJob } from "../../core/ports/job-repository.port.ts";
import type { Prisma } from "../../generated/prisma/client.ts";
import type { Db } from "./prisma-client.ts";
import { groupBy, toDomain } from "./mappers.ts";

/** {@link JobRepository} backed by Prisma. */
export class PrismaJobRepository implements JobRepository {
  constructor(private readonly db: Db) {}

  async createWithTasks(job: NewSegmentationJob, buildTasks: (jobId: string) => InferenceTaskV1[]): Promise<SegmentationJob> {
    const id = randomUUID();
    const tasks = buildTasks(id);
    const [row] = await this.db.$transaction([
      this.db.segmentationJob.create({
        data: {
          id, organizationId: job.organizationId, studyId: job.studyId, method: job.method, modelKey: job.modelKey,
          params: job.params as Prisma.InputJsonValue, totalSlices: job.totalSlices, createdById: job.createdById,
        },
      }),
      this.db.outboxMessage.createMany({
        data: tasks.map((t) => ({ id: t.taskId, organizationId: t.organizationId, topic: INFERENCE_TASK_TOPIC, payload: t as unknown as Prisma.InputJsonValue })),
      }),
    ]);
    return toDomain.job(row);
  }

  async findJob(organizationId: string, jobId: string): Promise<SegmentationJob | null> {
    const row = await this.db.segmentationJob.findFirst({ where: { id: jobId, organizationId } });
    return row ? toDomain.job(row) : null;
  }

  async jobsByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, SegmentationJob[]>> {
    const rows = await this.db.segmentationJob.findMany({ where: { organizationId, studyId: { in: [...studyIds] } }, orderBy: [{ createdAt: "desc" }, { id: "desc" }] });
    return groupBy(rows.map(toDomain.job), (j) => j.studyId);
  }

  async resultsAfter(organizationId: string, jobId: string, afterSliceIndex: number): Promise<SliceResult[]> {
    const rows = await this.db.sliceResult.findMany({
      where: { organizationId, jobId, sliceIndex: { gt: afterSliceIndex } },
      orderBy: [{ sliceIndex: "asc" }, { id: "asc" }],
    });
    return rows.map(toDomain.result);
  }

  async resultsBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, SliceResult[]>> {
    const rows = await this.db.sliceResult.findMany({ where: { organizationId, sliceId: { in: [...sliceIds] } }, orderBy: [{ createdAt: "asc" }, { id: "asc" }] });
    return groupBy(rows.map(toDomain.result), (r) => r.sliceId);
  }

  async markRunning(organizationId: string, jobId: string): Promise<SegmentationJob | null> {
    await this.db.segmentationJob.updateMany({ where: { id: jobId, organizationId, status: "QUEUED" }, data: { status: "RUNNING", startedAt: new Date() } });
    const job = await this.findJob(organizationId, jobId);
    return job?.status === "RUNNING" ? job : null;
  }

  async saveResult(organizationId: string, input: SliceResultInput): Promise<{ result: SliceResult; created: boolean }> {
    return this.db.$transaction(async (tx) => {
      const slice = await tx.slice.findFirst({ where: { id: input.sliceId, organizationId }, select: { sliceIndex: true } });
      const job = await tx.segmentationJob.findFirst({ where: { id: input.jobId, organizationId }, select: { id: true } });
      if (!slice || !job) throw new DomainError("NOT_FOUND", "job or slice not found");
      // Lock the job row while it is still QUEUED/RUNNING (a no-op update): a concurrent cancel either
      // commits first (then no result is stored) or waits for this transaction (then it was before the cancel).
      const { count: active } = await tx.segmentationJob.updateMany({
        where: { id: input.jobId, organizationId, status: { in: ["QUEUED", "RUNNING"] } },
        data: { completedSlices: { increment: 0 } },
      });
      if (active === 0) throw new DomainError("INVALID_STATE", "the job is no longer running; its result is not stored", { jobId: input.jobId });
      const { count } = await tx.sliceResult.createMany({
        data: [{
          organizationId, jobId: input.jobId, sliceId: input.sliceId, sliceIndex: slice.sliceIndex, width: input.width, height: input.height,
          maskRle: [...input.maskRle], bbox: [...input.bbox], areaPx: input.areaPx, pAbnormalBefore: input.pAbnormalBefore,
          pAbnormalAfter: input.pAbnormalAfter, flipped: input.flipped, timingsMs: input.timingsMs as Prisma.InputJsonValue,
        }],
        skipDuplicates: true,
      });
      if (count === 1) {
        await tx.segmentationJob.update({ where: { id: input.jobId }, data: { completedSlices: { increment: 1 } } });
      }
      const row = await tx.sliceResult.findUniqueOrThrow({ where: { jobId_sliceId: { jobId: input.jobId, sliceId: input.sliceId } } });
      return { result: toDomain.result(row), created: count === 1 };
    });
  }

  async recordSliceFailure(organizationId: string, jobId: string, _sliceId: string, _errorCode: string): Promise<void> {
    await this.db.segmentationJob.updateMany({ where: { id: jobId, organizationId }, data: { failedSlices: { increment: 1 } } });
  }

  async finish(organizationId: string, jobId: string, status: Extract<JobStatus, "SUCCEEDED" | "FAILED" | "CANCELLED">, errorCode: string | null = null): Promise<SegmentationJob | null> {
    const { count } = await this.db.segmentationJob.updateMany({
      where: { id: jobId, organizationId, status: { in: jobStatusesThatCanBecome(status) } },
      data: { status, errorCode, finishedAt: new Date() },
    });
    return count === 1 ? this.findJob(organizationId, jobId) : null;
  }
}
