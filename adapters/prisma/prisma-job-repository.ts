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

  async resultsAfterByJob(organizationId: string, afterSliceIndexByJob: ReadonlyMap<string, number>): Promise<Map<string, SliceResult[]>> {
    if (afterSliceIndexByJob.size === 0) return new Map();
    // One statement: jobs that share a lower bound share one (jobId IN …, sliceIndex > n) branch.
    const jobsByBound = new Map<number, string[]>();
    for (const [jobId, after] of afterSliceIndexByJob) jobsByBound.set(after, [...(jobsByBound.get(after) ?? []), jobId]);
    const rows = await this.db.sliceResult.findMany({
      where: { organizationId, OR: [...jobsByBound].map(([after, jobIds]) => ({ jobId: { in: jobIds }, sliceIndex: { gt: after } })) },
      orderBy: [{ sliceIndex: "asc" }, { id: "asc" }],
    });
    return groupBy(rows.map(toDomain.result), (r) => r.jobId);
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
    // One statement, one round trip (a worker writes one per slice; an interactive transaction of 6–8
    // statements cost ~20 ms per slice, bench/pipeline.ts): lock the job row while it is QUEUED/RUNNING
    // (a concurrent cancel either commits first, and nothing is stored, or waits for this statement),
    // insert unless (jobId, sliceId) exists, and count the slice only when a row was inserted.
    const id = randomUUID();
    const [row] = await this.db.$queryRaw<{ active: number; sliceFound: number; inserted: number; createdAt: Date | string | null; sliceIndex: number | null }[]>`
      WITH job AS (
        SELECT id FROM "SegmentationJob"
        WHERE id = ${input.jobId}::uuid AND "organizationId" = ${organizationId}::uuid AND status IN ('QUEUED', 'RUNNING')
        FOR UPDATE
      ), slice AS (
        SELECT "sliceIndex" FROM "Slice" WHERE id = ${input.sliceId}::uuid AND "organizationId" = ${organizationId}::uuid
      ), ins AS (
        INSERT INTO "SliceResult" ("id", "organizationId", "jobId", "sliceId", "sliceIndex", "width", "height", "maskRle", "bbox", "areaPx", "pAbnormalBefore", "pAbnormalAfter", "flipped", "timingsMs")
        SELECT ${id}::uuid, ${organizationId}::uuid, job.id, ${input.sliceId}::uuid, slice."sliceIndex", ${input.width}::int, ${input.height}::int,
               ${[...input.maskRle]}::int[], ${[...input.bbox]}::int[], ${input.areaPx}::int, ${input.pAbnormalBefore}::float8, ${input.pAbnormalAfter}::float8,
               ${input.flipped}::boolean, ${JSON.stringify(input.timingsMs)}::jsonb
        FROM job, slice
        ON CONFLICT ("jobId", "sliceId") DO NOTHING
        RETURNING "sliceIndex", "createdAt"
      ), bump AS (
        UPDATE "SegmentationJob" SET "completedSlices" = "completedSlices" + 1, "updatedAt" = now()
        WHERE id = ${input.jobId}::uuid AND EXISTS (SELECT 1 FROM ins)
      )
      SELECT (SELECT count(*)::int FROM job) AS "active", (SELECT count(*)::int FROM slice) AS "sliceFound",
             (SELECT count(*)::int FROM ins) AS "inserted", (SELECT "createdAt" FROM ins) AS "createdAt", (SELECT "sliceIndex" FROM ins) AS "sliceIndex"`;
    if (!row || Number(row.sliceFound) === 0) throw new DomainError("NOT_FOUND", "job or slice not found");
    if (Number(row.active) === 0) {
      const exists = await this.db.segmentationJob.findFirst({ where: { id: input.jobId, organizationId }, select: { id: true } });
      if (!exists) throw new DomainError("NOT_FOUND", "job or slice not found");
      throw new DomainError("INVALID_STATE", "the job is no longer running; its result is not stored", { jobId: input.jobId });
    }
    if (Number(row.inserted) === 1) {
      const result: SliceResult = {
        ...input, id, organizationId, sliceIndex: Number(row.sliceIndex), maskRle: [...input.maskRle], bbox: [...input.bbox],
        createdAt: row.createdAt instanceof Date ? row.createdAt : new Date(String(row.createdAt)),
      };
      return { result, created: true };
    }
    const existing = await this.db.sliceResult.findUniqueOrThrow({ where: { jobId_sliceId: { jobId: input.jobId, sliceId: input.sliceId } } });
    return { result: toDomain.result(existing), created: false };
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
