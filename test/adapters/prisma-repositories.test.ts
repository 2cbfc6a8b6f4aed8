import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PrismaStudyRepository } from "../../adapters/prisma/prisma-study-repository.ts";
import { PrismaLabelRepository } from "../../adapters/prisma/prisma-label-repository.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { PrismaOutbox } from "../../adapters/prisma/prisma-outbox.ts";
import type { NewSeries } from "../../core/ports/study-repository.port.ts";
import { createMigratedDatabase, type MigratedDatabase } from "./support/migrated-database.ts";

function series(n: number): NewSeries {
  return {
    seriesInstanceUID: null, description: "", sourceFormat: "PNG", dimsIJK: [4, 3, n], spacingMm: [1, 1, 2.5], originLPS: [0, 0, 0],
    directionLPS: [1, 0, 0, 0, 1, 0, 0, 0, 1],
    slices: Array.from({ length: n }, (_, k) => ({ sliceIndex: k, width: 4, height: 3, spacingMm: [1, 1] as [number, number], positionLPS: [0, 0, 2.5 * k] as [number, number, number], storageKey: `k${k}` })),
  };
}

describe("Prisma repositories on PostgreSQL", () => {
  let db: MigratedDatabase;
  let studies: PrismaStudyRepository;
  let labels: PrismaLabelRepository;
  let jobs: PrismaJobRepository;
  let identities: PrismaIdentityRepository;
  let orgA: string;
  let orgB: string;

  before(async () => {
    db = await createMigratedDatabase();
    studies = new PrismaStudyRepository(db.prisma);
    labels = new PrismaLabelRepository(db.prisma);
    jobs = new PrismaJobRepository(db.prisma);
    identities = new PrismaIdentityRepository(db.prisma);
  });
  after(async () => db.close());
  beforeEach(async () => {
    await db.truncate();
    orgA = (await identities.createOrganization({ slug: "a", name: "A" })).id;
    orgB = (await identities.createOrganization({ slug: "b", name: "B" })).id;
  });

  it("should hide another organisation's study when reading, listing or deleting", async () => {
    const study = await studies.createStudy(orgA, { title: "t", createdById: null });
    assert.equal(await studies.findStudy(orgB, study.id), null);
    assert.equal((await studies.listStudies(orgB, {}, 10, null)).items.length, 0);
    assert.equal(await studies.deleteStudy(orgB, study.id), false);
    assert.equal((await studies.findStudy(orgA, study.id))?.title, "t");
  });

  it("should page newest first without gaps or repeats when following cursors", async () => {
    const ids: string[] = [];
    for (let i = 0; i < 5; i++) ids.push((await studies.createStudy(orgA, { title: `s${i}`, createdById: null })).id);
    const seen: string[] = [];
    let after: [string, string] | null = null;
    for (let guard = 0; guard < 5; guard++) {
      const page = await studies.listStudies(orgA, {}, 2, after);
      seen.push(...page.items.map((s) => s.id));
      if (!page.hasNextPage) break;
      const last = page.items.at(-1)!;
      after = [last.createdAt.toISOString(), last.id];
    }
    assert.deepEqual([...seen].sort(), [...ids].sort());
    assert.equal(new Set(seen).size, 5);
  });

  it("should set the study READY and store slices in order when a series is attached", async () => {
    const study = await studies.createStudy(orgA, { title: "t", createdById: null });
    await studies.attachSeries(orgA, study.id, series(3));
    assert.equal((await studies.findStudy(orgA, study.id))?.status, "READY");
    const slices = (await studies.slicesByStudy(orgA, [study.id])).get(study.id)!;
    assert.deepEqual(slices.map((s) => s.sliceIndex), [0, 1, 2]);
    assert.deepEqual(slices[2]!.positionLPS, [0, 0, 5]);
  });

  it("should replace a slice's label and filter studies by label when labels are set twice", async () => {
    const study = await studies.createStudy(orgA, { title: "t", createdById: null });
    await studies.attachSeries(orgA, study.id, series(2));
    const [s0] = (await studies.slicesByStudy(orgA, [study.id])).get(study.id)!;
    await labels.setLabels(orgA, study.id, null, [{ sliceId: s0!.id, value: "NORMAL" }, { sliceId: null, value: "NORMAL" }]);
    await labels.setLabels(orgA, study.id, null, [{ sliceId: s0!.id, value: "ABNORMAL" }]);
    const bySlice = (await labels.labelsBySlice(orgA, [s0!.id])).get(s0!.id)!;
    assert.deepEqual(bySlice.map((l) => l.value), ["ABNORMAL"]);
    assert.equal((await labels.labelsByStudy(orgA, [study.id])).get(study.id)!.length, 2);
    assert.equal((await studies.listStudies(orgA, { label: "ABNORMAL" }, 10, null)).items.length, 1);
    assert.equal((await studies.listStudies(orgA, { status: "EMPTY" }, 10, null)).items.length, 0);
  });

  it("should store a job with its outbox tasks and count a repeated result once", async () => {
    const study = await studies.createStudy(orgA, { title: "t", createdById: null });
    await studies.attachSeries(orgA, study.id, series(2));
    const [s0] = (await studies.slicesByStudy(orgA, [study.id])).get(study.id)!;
    const job = await jobs.createWithTasks(
      { organizationId: orgA, studyId: study.id, method: "COIN", modelKey: "m", params: {}, totalSlices: 2, createdById: null },
      (jobId) => [{ schemaVersion: 1, taskId: crypto.randomUUID(), jobId, organizationId: orgA, studyId: study.id, sliceIds: [s0!.id], method: "COIN", modelKey: "m", params: {} }],
    );
    const pending = await new PrismaOutbox(db.prisma).claim(10);
    assert.equal(pending.length, 1);
    assert.equal((pending[0]!.payload as { jobId: string }).jobId, job.id);
    assert.equal((await jobs.markRunning(orgA, job.id))?.status, "RUNNING");
    const input = { jobId: job.id, sliceId: s0!.id, width: 4, height: 3, maskRle: [12], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: { infer: 1 } };
    const first = await jobs.saveResult(orgA, input);
    const second = await jobs.saveResult(orgA, input);
    assert.equal(first.created, true);
    assert.equal(second.created, false);
    assert.equal(second.result.id, first.result.id);
    assert.equal((await jobs.findJob(orgA, job.id))?.completedSlices, 1);
    assert.equal(await jobs.finish(orgB, job.id, "SUCCEEDED"), null, "another organisation cannot finish it");
    const done = await jobs.finish(orgA, job.id, "SUCCEEDED");
    assert.equal(done?.status, "SUCCEEDED");
    assert.ok(done?.finishedAt instanceof Date);
    assert.equal(await jobs.finish(orgA, job.id, "SUCCEEDED"), null, "only one call finishes the job");
    assert.equal(await jobs.finish(orgA, job.id, "CANCELLED"), null);
    assert.equal(await jobs.findJob(orgB, job.id), null);
    await assert.rejects(jobs.saveResult(orgB, input), /not found/);
  });

  it("should read each job's results after its own bound, in slice order and only for the caller's organisation, when many jobs are read at once", async () => {
    const study = await studies.createStudy(orgA, { title: "t", createdById: null });
    await studies.attachSeries(orgA, study.id, series(3));
    const slices = (await studies.slicesByStudy(orgA, [study.id])).get(study.id)!;
    const newJob = async () => {
      const job = await jobs.createWithTasks({ organizationId: orgA, studyId: study.id, method: "COIN", modelKey: "m", params: {}, totalSlices: 3, createdById: null }, () => []);
      await jobs.markRunning(orgA, job.id);
      return job.id;
    };
    const [a, b, empty] = [await newJob(), await newJob(), await newJob()];
    // Stored out of slice order, so the order comes from the read, not from insertion.
    for (const jobId of [a, b]) {
      for (const k of [2, 0, 1]) {
        await jobs.saveResult(orgA, { jobId, sliceId: slices[k]!.id, width: 4, height: 3, maskRle: [12], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {} });
      }
    }
    const found = await jobs.resultsAfterByJob(orgA, new Map([[a, -1], [b, 0], [empty, -1]]));
    assert.deepEqual([...found.keys()].sort(), [a, b].sort());
    assert.deepEqual(found.get(a)!.map((r) => r.sliceIndex), [0, 1, 2]);
    assert.deepEqual(found.get(b)!.map((r) => r.sliceIndex), [1, 2]);
    assert.ok(found.get(b)!.every((r) => r.jobId === b));
    for (const [jobId, after] of [[a, -1], [b, 0]] as const) {
      assert.deepEqual(found.get(jobId), await jobs.resultsAfter(orgA, jobId, after), "the batch read agrees with the single read");
    }
    assert.equal((await jobs.resultsAfterByJob(orgB, new Map([[a, -1], [b, -1]]))).size, 0);
    assert.equal((await jobs.resultsAfterByJob(orgA, new Map())).size, 0);
  });
});
