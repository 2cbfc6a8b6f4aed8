import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { createStudy, studyWithSlice, upload } from "./support/study-flow.ts";
import { greyPng } from "./support/png-fixture.ts";

describe("organisation scoping", () => {
  let api: ApiHarness;
  let a: { studyId: string; sliceId: string };
  let jobId: string;
  before(async () => {
    api = await startApiHarness();
    a = await studyWithSlice(api, api.seed.adminA.key);
    const res = await api.gql(api.seed.adminA.key, "mutation($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN }) { job { id } } }", { s: a.studyId });
    jobId = res.body.data!.requestSegmentation.job.id;
  });
  after(async () => api.close());

  const b = () => api.seed.adminB.key;

  it("should answer NOT_FOUND when another organisation reads a study by id", async () => {
    const res = await api.gql(b(), "query($id: ID!) { study(id: $id) { id title } }", { id: a.studyId });
    assert.deepEqual(codes(res), ["NOT_FOUND"]);
    assert.equal(res.body.data?.study, null);
  });

  it("should answer exactly like an unknown id when the id belongs to another organisation", async () => {
    const foreign = await api.gql(b(), "query($id: ID!) { study(id: $id) { id } }", { id: a.studyId });
    const unknown = await api.gql(b(), "query($id: ID!) { study(id: $id) { id } }", { id: "00000000-0000-4000-8000-000000000000" });
    assert.deepEqual(foreign.body.errors?.map((e) => [e.message, e.extensions]), unknown.body.errors?.map((e) => [e.message, e.extensions]));
  });

  it("should list none of another organisation's studies", async () => {
    const res = await api.gql(b(), "{ studies(first: 50) { edges { node { id } } } }");
    assert.deepEqual(res.body.data?.studies.edges, []);
  });

  it("should answer NOT_FOUND and change nothing when another organisation labels, imports into or deletes a study", async () => {
    const labels = await api.gql(b(), "mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { id } } }", { i: { studyId: a.studyId, labels: [{ sliceId: a.sliceId, value: "ABNORMAL" }] } });
    assert.deepEqual(codes(labels), ["NOT_FOUND"]);
    const key = await upload(api, b(), greyPng(4, 4));
    const imp = await api.gql(b(), "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id } } }", { i: { studyId: a.studyId, uploadKeys: [key], format: "PNG" } });
    assert.deepEqual(codes(imp), ["NOT_FOUND"]);
    const del = await api.gql(b(), "mutation($id: ID!) { deleteStudy(input: { id: $id }) { deletedStudyId } }", { id: a.studyId });
    assert.deepEqual(codes(del), ["NOT_FOUND"]);
    assert.equal(await api.db.prisma.label.count({ where: { studyId: a.studyId } }), 0);
    assert.equal(await api.db.prisma.slice.count({ where: { studyId: a.studyId } }), 1);
    assert.equal(await api.db.prisma.study.count({ where: { id: a.studyId } }), 1);
  });

  it("should answer NOT_FOUND when a study of one's own organisation is labelled with another organisation's slice", async () => {
    const own = await createStudy(api, b());
    const res = await api.gql(b(), "mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { id } } }", { i: { studyId: own, labels: [{ sliceId: a.sliceId, value: "NORMAL" }] } });
    assert.deepEqual(codes(res), ["NOT_FOUND"]);
  });

  it("should answer UPLOAD_NOT_FOUND when one organisation imports another organisation's upload", async () => {
    const keyA = await upload(api, api.seed.adminA.key, greyPng(4, 4));
    const own = await createStudy(api, b());
    const res = await api.gql(b(), "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id } } }", { i: { studyId: own, uploadKeys: [keyA], format: "PNG" } });
    assert.deepEqual(codes(res), ["UPLOAD_NOT_FOUND"]);
  });

  it("should answer NOT_FOUND when another organisation requests, reads or cancels segmentation", async () => {
    const req = await api.gql(b(), "mutation($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN }) { job { id } } }", { s: a.studyId });
    assert.deepEqual(codes(req), ["NOT_FOUND"]);
    const read = await api.gql(b(), "query($id: ID!) { segmentationJob(id: $id) { id } }", { id: jobId });
    assert.deepEqual(codes(read), ["NOT_FOUND"]);
    const cancel = await api.gql(b(), "mutation($id: ID!) { cancelSegmentationJob(input: { id: $id }) { job { status } } }", { id: jobId });
    assert.deepEqual(codes(cancel), ["NOT_FOUND"]);
    const job = await api.db.prisma.segmentationJob.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(job.status, "QUEUED");
  });

  it("should show the owner its study, slice and job when the owner asks", async () => {
    const res = await api.gql(api.seed.viewerA.key, "query($id: ID!) { study(id: $id) { id slices { totalCount } segmentationJobs { id } } }", { id: a.studyId });
    assert.equal(res.body.data?.study.slices.totalCount, 1);
    assert.deepEqual(res.body.data?.study.segmentationJobs.map((j: { id: string }) => j.id), [jobId]);
  });
});
