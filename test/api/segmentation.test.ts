import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { createStudy, studyWithSlice } from "./support/study-flow.ts";
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

  it("should batch relation reads into one call per relation when a page of studies is read", async () => {
    const calls: Record<string, number> = {};
    const studies = api.services.studies as unknown as Record<string, (...a: unknown[]) => unknown>;
    const originals = new Map<string, (...a: unknown[]) => unknown>();
    for (const name of ["slicesByStudy", "labelsByStudy", "labelsBySlice", "seriesByStudy"]) {
      const original = studies[name]!;
      originals.set(name, original);
      studies[name] = (...args: unknown[]) => {
        calls[name] = (calls[name] ?? 0) + 1;
        return original.apply(api.services.studies, args);
      };
    }
    try {
      const res = await api.gql(key(), "{ studies(first: 20) { edges { node { id labels { value } series { id } slices(first: 10) { edges { node { label labels { value } } } } } } } }");
      assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
      assert.ok(res.body.data!.studies.edges.length >= 3);
      assert.deepEqual(calls, { slicesByStudy: 1, labelsByStudy: 1, labelsBySlice: 1, seriesByStudy: 1 });
    } finally {
      for (const [name, fn] of originals) studies[name] = fn;
    }
  });
});
