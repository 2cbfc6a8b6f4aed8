import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { createStudy, studyWithSlice, studyWithSlices } from "./support/study-flow.ts";
import { PrismaJobRepository } from "../../adapters/prisma/prisma-job-repository.ts";
import { PrismaLabelRepository } from "../../adapters/prisma/prisma-label-repository.ts";
import { PrismaStudyRepository } from "../../adapters/prisma/prisma-study-repository.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";

const REQUEST = "mutation($i: RequestSegmentationInput!) { requestSegmentation(input: $i) { job { id status method modelKey totalSlices completedSlices } } }";

describe("segmentation jobs", () => {
  let api: ApiHarness;
  const received: InferenceTaskV1[] = [];
  before(async () => (api = await startApiHarness({ handler: () => ({ handle: async (t) => void received.push(t) }) })));
  after(async () => api.close());
  const key = () => api.seed.annotatorA.key;

  it("should store a QUEUED job and deliver its task through the outbox when segmentation is requested", async () => {
    const { studyId, sliceId } = await studyWithSlice(api, key());
    const res = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } });
    const job = res.body.data!.requestSegmentation.job;
    assert.deepEqual({ ...job, id: undefined }, { id: undefined, status: "QUEUED", method: "COIN", modelKey: "test-coin", totalSlices: 1, completedSlices: 0 });
    await api.services.relay!.kick();
    await api.queue.idle();
    const task = received.find((t) => t.jobId === job.id);
    assert.deepEqual(task && { ...task, taskId: "x" }, {
      schemaVersion: 1, taskId: "x", jobId: job.id, organizationId: api.seed.orgA, studyId, sliceIds: [sliceId], method: "COIN", modelKey: "test-coin", params: {},
    });
    assert.equal(await api.db.prisma.outboxMessage.count({ where: { dispatchedAt: null } }), 0);
  });

  it("should pick the classifier when a saliency method is requested without a model key", async () => {
    const { studyId } = await studyWithSlice(api, key());
    const res = await api.gql(key(), REQUEST, { i: { studyId, method: "LAYER_CAM" } });
    assert.equal(res.body.data!.requestSegmentation.job.modelKey, "test-classifier");
  });

  it("should answer UNKNOWN_MODEL and store no job when the model key is not registered or has the wrong kind", async () => {
    const { studyId } = await studyWithSlice(api, key());
    for (const modelKey of ["nope", "test-classifier"]) {
      assert.deepEqual(codes(await api.gql(key(), REQUEST, { i: { studyId, method: "COIN", modelKey } })), ["UNKNOWN_MODEL"]);
    }
    assert.equal(await api.db.prisma.segmentationJob.count({ where: { studyId } }), 0);
  });

  it("should answer BAD_USER_INPUT and store no job when the method parameters are invalid", async () => {
    const { studyId } = await studyWithSlice(api, key());
    const bad = [
      { rise: { n: -5 } },
      { unknownKey: 1 },
      { refine: true, cleanUp: true, hysteresisThreshold: 0.1 },
      { hysteresisThreshold: 0.1 },
      { refine: true }, // test-coin's model.json has no calibrated thresholds.hysteresis
      { refine: true, hysteresisThreshold: 0.3 }, // above the mask threshold 0.25
    ];
    for (const params of bad) {
      const res = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN", params } });
      assert.deepEqual(codes(res), ["BAD_USER_INPUT"], JSON.stringify(params));
      assert.match(res.body.errors![0]!.message, /^invalid params: /);
    }
    assert.equal(await api.db.prisma.segmentationJob.count({ where: { studyId } }), 0);
    const ok = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN", params: { refine: true, hysteresisThreshold: 0.1 } } });
    assert.equal(ok.body.data!.requestSegmentation.job.status, "QUEUED");
  });

  it("should answer STUDY_HAS_NO_SLICES when the study is empty", async () => {
    const studyId = await createStudy(api, key());
    assert.deepEqual(codes(await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } })), ["STUDY_HAS_NO_SLICES"]);
  });

  it("should cancel a QUEUED job once and answer INVALID_STATE the second time", async () => {
    const { studyId } = await studyWithSlice(api, key());
    const id = (await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } })).body.data!.requestSegmentation.job.id;
    const cancel = "mutation($id: ID!) { cancelSegmentationJob(input: { id: $id }) { job { status finishedAt } } }";
    const first = await api.gql(key(), cancel, { id });
    assert.equal(first.body.data!.cancelSegmentationJob.job.status, "CANCELLED");
    assert.ok(first.body.data!.cancelSegmentationJob.job.finishedAt);
    assert.deepEqual(codes(await api.gql(key(), cancel, { id })), ["INVALID_STATE"]);
  });

  it("should record audit events without pixel data when studies are created and labelled", async () => {
    const { studyId, sliceId } = await studyWithSlice(api, key());
    await api.gql(key(), "mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { id } } }", { i: { studyId, labels: [{ sliceId, value: "ABNORMAL" }, { value: "ABNORMAL" }] } });
    const events = await api.db.prisma.auditEvent.findMany({ where: { entityId: studyId }, orderBy: { createdAt: "asc" } });
    assert.deepEqual(events.map((e) => e.action), ["study.create", "study.import", "labels.set"]);
    assert.deepEqual(events[2]!.data, { count: 2 });
  });

  /** Counts calls of every method of the repositories' prototypes while `run` runs. */
  async function countRepositoryCalls(run: () => Promise<void>): Promise<Record<string, number>> {
    const calls: Record<string, number> = {};
    const restore: (() => void)[] = [];
    for (const repo of [PrismaStudyRepository, PrismaLabelRepository, PrismaJobRepository]) {
      const proto = repo.prototype as unknown as Record<string, (...a: unknown[]) => unknown>;
      for (const name of Object.getOwnPropertyNames(proto)) {
        if (name === "constructor" || typeof proto[name] !== "function") continue;
        const original = proto[name]!;
        proto[name] = function (this: unknown, ...args: unknown[]) {
          calls[`${repo.name}.${name}`] = (calls[`${repo.name}.${name}`] ?? 0) + 1;
          return original.apply(this, args);
        };
        restore.push(() => (proto[name] = original));
      }
    }
    try {
      await run();
    } finally {
      for (const r of restore) r();
    }
    return calls;
  }

  it("should read every relation with one repository call when a page of studies is read with slices, labels, ground truth, jobs and results", async () => {
    const org = api.seed.orgA;
    const groundTruth = new PrismaLabelRepository(api.db.prisma);
    const made: { studyId: string; sliceIds: string[]; full: string; partial: string }[] = [];
    const save = (jobId: string, sliceId: string) =>
      api.services.jobs.saveResult(org, { jobId, sliceId, width: 4, height: 3, maskRle: [12], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.2, flipped: true, timingsMs: {} });
    for (let s = 0; s < 3; s++) {
      const { studyId, sliceIds } = await studyWithSlices(api, key(), 3);
      const labelled = await api.gql(key(), "mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { id } } }", { i: { studyId, labels: [{ sliceId: sliceIds[0], value: "ABNORMAL" }, { value: "ABNORMAL" }] } });
      assert.equal(labelled.body.errors, undefined, JSON.stringify(labelled.body.errors));
      await groundTruth.putGroundTruth(org, { sliceId: sliceIds[0]!, width: 4, height: 3, rle: [12] });
      const jobIds: string[] = [];
      for (let j = 0; j < 2; j++) {
        const res = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } });
        jobIds.push(res.body.data!.requestSegmentation.job.id);
        await api.services.jobs.markRunning(org, jobIds[j]!);
      }
      // Stored out of slice order: the read, not the insertion, must order them.
      for (const k of [2, 0, 1]) await save(jobIds[0]!, sliceIds[k]!);
      await save(jobIds[1]!, sliceIds[1]!);
      made.push({ studyId, sliceIds, full: jobIds[0]!, partial: jobIds[1]! });
    }

    let body: Awaited<ReturnType<ApiHarness["gql"]>>["body"] = {};
    const calls = await countRepositoryCalls(async () => {
      body = (await api.gql(key(), `{ studies(first: 20) { edges { node { id labels { value } series { id }
        slices(first: 10) { edges { node { id label labels { value } groundTruth { width height } results { jobId sliceIndex } } } }
        segmentationJobs { id study { id } results { sliceIndex } later: results(afterSlice: 0) { sliceIndex } } } } } }`)).body;
    });
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    // No findStudies: the page primes studyById, so each job's `study` is served from it.
    assert.deepEqual(calls, {
      "PrismaStudyRepository.listStudies": 1,
      "PrismaStudyRepository.seriesByStudy": 1,
      "PrismaStudyRepository.slicesByStudy": 1,
      "PrismaLabelRepository.labelsByStudy": 1,
      "PrismaLabelRepository.labelsBySlice": 1,
      "PrismaLabelRepository.groundTruthBySlice": 1,
      "PrismaJobRepository.jobsByStudy": 1,
      "PrismaJobRepository.resultsBySlice": 1,
      "PrismaJobRepository.resultsAfterByJob": 1,
    });

    // Batching must not change what each parent gets.
    const nodes = new Map(body.data!.studies.edges.map((e: any) => [e.node.id, e.node]));
    for (const m of made) {
      const study = nodes.get(m.studyId) as any;
      assert.ok(study, "the new study is on the first page");
      assert.deepEqual(study.segmentationJobs, [
        { id: m.partial, study: { id: m.studyId }, results: [{ sliceIndex: 1 }], later: [{ sliceIndex: 1 }] },
        { id: m.full, study: { id: m.studyId }, results: [{ sliceIndex: 0 }, { sliceIndex: 1 }, { sliceIndex: 2 }], later: [{ sliceIndex: 1 }, { sliceIndex: 2 }] },
      ]);
      const slices = study.slices.edges.map((e: any) => e.node);
      assert.deepEqual(slices.map((n: any) => n.id), m.sliceIds);
      assert.deepEqual(slices.map((n: any) => n.label), ["ABNORMAL", null, null]);
      assert.deepEqual(slices.map((n: any) => n.groundTruth), [{ width: 4, height: 3 }, null, null]);
      assert.deepEqual(slices.map((n: any) => n.results.map((r: any) => r.jobId).sort()), [[m.full], [m.full, m.partial].sort(), [m.full]]);
      assert.equal(study.labels.length, 2);
      assert.equal(study.series.length, 1);
    }

    // A study read by id is not primed: its jobs' `study` fields share one load.
    let read: Awaited<ReturnType<ApiHarness["gql"]>>["body"] = {};
    const byIdCalls = await countRepositoryCalls(async () => {
      read = (await api.gql(key(), "query($s: ID!) { study(id: $s) { segmentationJobs { study { id } results { sliceIndex } } } }", { s: made[0]!.studyId })).body;
    });
    assert.deepEqual(read.data, { study: { segmentationJobs: [
      { study: { id: made[0]!.studyId }, results: [{ sliceIndex: 1 }] },
      { study: { id: made[0]!.studyId }, results: [{ sliceIndex: 0 }, { sliceIndex: 1 }, { sliceIndex: 2 }] },
    ] } });
    assert.deepEqual(byIdCalls, {
      "PrismaStudyRepository.findStudy": 1,
      "PrismaStudyRepository.findStudies": 1,
      "PrismaJobRepository.jobsByStudy": 1,
      "PrismaJobRepository.resultsAfterByJob": 1,
    });
  });

  it("should give no results of another organisation's jobs when their ids are batch-read", async () => {
    const { studyId, sliceIds } = await studyWithSlices(api, key(), 1);
    const jobId = (await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } })).body.data!.requestSegmentation.job.id as string;
    await api.services.jobs.markRunning(api.seed.orgA, jobId);
    await api.services.jobs.saveResult(api.seed.orgA, { jobId, sliceId: sliceIds[0]!, width: 4, height: 3, maskRle: [12], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.2, flipped: true, timingsMs: {} });
    const own = await api.services.auth.authenticate({ apiKey: key() });
    const other = await api.services.auth.authenticate({ apiKey: api.seed.adminB.key });
    assert.equal((await api.services.segmentation.resultsByJob(own, new Map([[jobId, -1]]))).get(jobId)?.length, 1);
    assert.equal((await api.services.segmentation.resultsByJob(other, new Map([[jobId, -1]]))).size, 0);
    assert.equal((await api.services.segmentation.resultsByJob(own, new Map([["not-a-uuid", -1]]))).size, 0);
  });
});
