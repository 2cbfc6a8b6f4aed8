// The worker's batch result write (PrismaJobRepository.saveResults) on PostgreSQL: one statement per
// inference batch that keeps every idempotency rule of PROTOCOL.md §5 (unique job + slice, counted once,
// nothing stored once the job is no longer running).
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { PrismaStudyRepository } from "../../adapters/prisma/prisma-study-repository.ts";
import type { SliceResultInput } from "../../core/domain/slice-result.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../adapters/support/migrated-database.ts";

describe("batch result writes on PostgreSQL", () => {
  let db: MigratedDatabase;
  let jobs: PrismaJobRepository;
  let studies: PrismaStudyRepository;
  let identities: PrismaIdentityRepository;
  let org: string;
  let otherOrg: string;

  before(async () => {
    db = await createMigratedDatabase();
    jobs = new PrismaJobRepository(db.prisma);
    studies = new PrismaStudyRepository(db.prisma);
    identities = new PrismaIdentityRepository(db.prisma);
  });
  after(async () => db?.close());
  beforeEach(async () => {
    await db.truncate();
    org = (await identities.createOrganization({ slug: "a", name: "A" })).id;
    otherOrg = (await identities.createOrganization({ slug: "b", name: "B" })).id;
  });

  /** A RUNNING job over a study of `n` slices of `organizationId`; slice ids in slice order. */
  async function runningJob(n: number, organizationId = org): Promise<{ jobId: string; sliceIds: string[] }> {
    const study = await studies.createStudy(organizationId, { title: "t", createdById: null });
    await studies.attachSeries(organizationId, study.id, {
      seriesInstanceUID: null, description: "", sourceFormat: "NIFTI", dimsIJK: [4, 3, n], spacingMm: [1, 1, 1], originLPS: [0, 0, 0],
      directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
      slices: Array.from({ length: n }, (_, k) => ({ sliceIndex: k, width: 4, height: 3, spacingMm: [1, 1] as [number, number], positionLPS: [0, 0, k] as [number, number, number], storageKey: `k${k}` })),
    });
    const sliceIds = [...(await studies.slicesByStudy(organizationId, [study.id])).get(study.id)!].sort((a, b) => a.sliceIndex - b.sliceIndex).map((s) => s.id);
    const job = await jobs.createWithTasks({ organizationId, studyId: study.id, method: "COIN", modelKey: "m", params: {}, totalSlices: n, createdById: null }, () => []);
    assert.equal((await jobs.markRunning(organizationId, job.id))?.status, "RUNNING");
    return { jobId: job.id, sliceIds };
  }

  function input(jobId: string, sliceId: string, k: number): SliceResultInput {
    return {
      jobId, sliceId, width: 4, height: 3, maskRle: [k, 1, 11 - k], bbox: k === 0 ? [] : [k % 4, 0, k % 4, 0], areaPx: 1,
      pAbnormalBefore: 0.9 + k / 100, pAbnormalAfter: 0.1, flipped: k % 2 === 0, timingsMs: { infer: 1.5 + k, total: 2 + k },
    };
  }

  it("should store each new result once, return the stored row of a repeated one and count only the new ones when a batch repeats a slice", async () => {
    const { jobId, sliceIds } = await runningJob(4);
    const earlier = await jobs.saveResult(org, input(jobId, sliceIds[0]!, 0));
    const saved = await jobs.saveResults(org, jobId, sliceIds.slice(0, 3).map((id, k) => input(jobId, id, k)));
    assert.deepEqual(saved.results.map((r) => r.created), [false, true, true]);
    assert.equal(saved.results[0]!.result.id, earlier.result.id);
    assert.deepEqual(saved.results.map((r) => r.result.sliceIndex), [0, 1, 2]);
    assert.deepEqual(saved.progress, { status: "RUNNING", completedSlices: 3, failedSlices: 0, totalSlices: 4 });
    // What the batch returns is what it stored.
    const rows = await db.prisma.sliceResult.findMany({ where: { jobId }, orderBy: { sliceIndex: "asc" } });
    assert.equal(rows.length, 3);
    const second = saved.results[2]!.result;
    const row = rows.find((r) => r.id === second.id)!;
    assert.deepEqual(
      [row.maskRle, row.bbox, row.pAbnormalBefore, row.flipped, row.timingsMs, row.createdAt.getTime()],
      [[2, 1, 9], [2, 0, 2, 0], 0.92, true, { infer: 3.5, total: 4 }, second.createdAt.getTime()],
    );
    assert.equal((await jobs.findJob(org, jobId))!.completedSlices, 3);
    const again = await jobs.saveResults(org, jobId, sliceIds.slice(0, 3).map((id, k) => input(jobId, id, k)));
    assert.deepEqual(again.results.map((r) => r.created), [false, false, false]);
    assert.equal(again.progress.completedSlices, 3, "a redelivered batch counts nothing");
  });

  it("should store nothing of the batch and throw NOT_FOUND when one slice is another organisation's", async () => {
    const { jobId, sliceIds } = await runningJob(2);
    const foreign = await runningJob(1, otherOrg);
    await assert.rejects(
      jobs.saveResults(org, jobId, [input(jobId, sliceIds[0]!, 0), input(jobId, foreign.sliceIds[0]!, 1)]),
      (err: Error & { code?: string }) => err.code === "NOT_FOUND",
    );
    assert.equal(await db.prisma.sliceResult.count({ where: { jobId } }), 0);
    assert.equal((await jobs.findJob(org, jobId))!.completedSlices, 0);
  });

  it("should store nothing and throw INVALID_STATE when the job was cancelled before the batch", async () => {
    const { jobId, sliceIds } = await runningJob(2);
    assert.equal((await jobs.finish(org, jobId, "CANCELLED"))?.status, "CANCELLED");
    await assert.rejects(jobs.saveResults(org, jobId, sliceIds.map((id, k) => input(jobId, id, k))), (err: Error & { code?: string }) => err.code === "INVALID_STATE");
    assert.equal(await db.prisma.sliceResult.count({ where: { jobId } }), 0);
  });

  it("should store each slice once and count it once when two copies of a task write the same batch at the same time", async () => {
    const { jobId, sliceIds } = await runningJob(6);
    const batch = sliceIds.map((id, k) => input(jobId, id, k));
    const [a, b] = await Promise.all([jobs.saveResults(org, jobId, batch), jobs.saveResults(org, jobId, batch)]);
    // The job-row lock serialises the two statements: one stores all, the other finds all stored.
    const created = [a!, b!].map((s) => s.results.filter((r) => r.created).length).sort();
    assert.deepEqual(created, [0, 6]);
    assert.deepEqual(a!.results.map((r) => r.result.id), b!.results.map((r) => r.result.id));
    assert.equal(await db.prisma.sliceResult.count({ where: { jobId } }), 6);
    assert.equal((await jobs.findJob(org, jobId))!.completedSlices, 6);
    assert.equal(Math.max(a!.progress.completedSlices, b!.progress.completedSlices), 6);
  });

  it("should refuse a batch that lists a slice twice or names another job", async () => {
    const { jobId, sliceIds } = await runningJob(1);
    await assert.rejects(jobs.saveResults(org, jobId, [input(jobId, sliceIds[0]!, 0), input(jobId, sliceIds[0]!, 0)]), RangeError);
    await assert.rejects(jobs.saveResults(org, jobId, [input("00000000-0000-4000-8000-000000000000", sliceIds[0]!, 0)]), RangeError);
  });
});
