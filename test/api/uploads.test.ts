import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { createStudy, upload } from "./support/study-flow.ts";
import { greyPng } from "./support/png-fixture.ts";
import { writeNifti } from "../../imaging/nifti/nifti-writer.ts";
import { IDENTITY_DIRECTION_LPS } from "../../imaging/volume.ts";

const IMPORT = "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id status series { sourceFormat dimsIJK } slices { totalCount edges { node { sliceIndex width height } } } } } }";
const REQUEST = "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadKey url maxBytes } }";

describe("uploads and import", () => {
  let api: ApiHarness;
  const MAX = 4096;
  before(async () => (api = await startApiHarness({ uploadMaxBytes: MAX })));
  after(async () => api.close());
  const key = () => api.seed.annotatorA.key;

  async function assertUnchanged(studyId: string): Promise<void> {
    const study = await api.db.prisma.study.findUniqueOrThrow({ where: { id: studyId } });
    assert.equal(study.status, "EMPTY");
    assert.equal(await api.db.prisma.slice.count({ where: { studyId } }), 0);
    assert.equal(await api.db.prisma.series.count({ where: { studyId } }), 0);
  }

  it("should create a READY study with one slice per image when a PNG is imported", async () => {
    const studyId = await createStudy(api, key());
    const uploadKey = await upload(api, key(), greyPng(8, 6));
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "PNG" } });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const study = res.body.data!.importStudy.study;
    assert.equal(study.status, "READY");
    assert.deepEqual(study.series, [{ sourceFormat: "PNG", dimsIJK: [8, 6, 1] }]);
    assert.deepEqual(study.slices.edges.map((e: any) => e.node), [{ sliceIndex: 0, width: 8, height: 6 }]);
    const slice = await api.db.prisma.slice.findFirstOrThrow({ where: { studyId } });
    const pixels = await api.store.get(slice.storageKey);
    assert.equal(pixels?.byteLength, 8 * 6 * 4);
    assert.equal(new Float32Array(pixels!.buffer, pixels!.byteOffset, 48)[13], 13);
  });

  it("should store one slice per k with its LPS position when a NIfTI volume is imported", async () => {
    const data = new Int16Array(6 * 5 * 3).map((_, i) => i - 40);
    const nifti = writeNifti({ dimsIJK: [6, 5, 3], spacingMm: [0.8, 0.9, 2.5], originLPS: [10, -20, 30], directionLPS: IDENTITY_DIRECTION_LPS, unit: "HU", data });
    const studyId = await createStudy(api, key());
    const uploadKey = await upload(api, key(), nifti, "NIFTI", "application/gzip");
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "NIFTI" } });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(res.body.data!.importStudy.study.series, [{ sourceFormat: "NIFTI", dimsIJK: [6, 5, 3] }]);
    const slices = await api.db.prisma.slice.findMany({ where: { studyId }, orderBy: { sliceIndex: "asc" } });
    assert.deepEqual(slices.map((s) => s.positionLPS.map((x) => Math.round(x * 1000) / 1000)), [[10, -20, 30], [10, -20, 32.5], [10, -20, 35]]);
    assert.deepEqual(slices[0]!.spacingMm.map((x) => Math.round(x * 1000) / 1000), [0.8, 0.9]);
    const pixels = await api.store.get(slices[2]!.storageKey);
    assert.equal(new Float32Array(pixels!.buffer, pixels!.byteOffset, 30)[0], 60 - 40);
  });

  it("should answer UPLOAD_TOO_LARGE when an upload bigger than the limit is requested", async () => {
    const res = await api.gql(key(), REQUEST, { i: { format: "PNG", contentType: "image/png", sizeBytes: MAX + 1 } });
    assert.deepEqual(codes(res), ["UPLOAD_TOO_LARGE"]);
  });

  it("should answer UPLOAD_EMPTY when a zero-byte upload is requested", async () => {
    const res = await api.gql(key(), REQUEST, { i: { format: "PNG", contentType: "image/png", sizeBytes: 0 } });
    assert.deepEqual(codes(res), ["UPLOAD_EMPTY"]);
  });

  it("should answer UNSUPPORTED_FORMAT when the content type does not fit the format", async () => {
    const res = await api.gql(key(), REQUEST, { i: { format: "PNG", contentType: "text/plain", sizeBytes: 10 } });
    assert.deepEqual(codes(res), ["UNSUPPORTED_FORMAT"]);
  });

  it("should refuse with 413 UPLOAD_TOO_LARGE when more bytes than the limit are PUT", async () => {
    const res = await api.gql(key(), REQUEST, { i: { format: "PNG", contentType: "image/png", sizeBytes: 100 } });
    const put = await fetch(res.body.data!.requestUpload.url, { method: "PUT", headers: { "content-type": "image/png" }, body: Buffer.alloc(MAX + 10) });
    assert.equal(put.status, 413);
    assert.equal(((await put.json()) as { code: string }).code, "UPLOAD_TOO_LARGE");
  });

  it("should refuse with 400 UPLOAD_EMPTY and store nothing when an empty body is PUT", async () => {
    const res = await api.gql(key(), REQUEST, { i: { format: "PNG", contentType: "image/png", sizeBytes: 100 } });
    const { url, uploadKey } = res.body.data!.requestUpload;
    const put = await fetch(url, { method: "PUT", headers: { "content-type": "image/png" }, body: "" });
    assert.equal(put.status, 400);
    assert.equal(((await put.json()) as { code: string }).code, "UPLOAD_EMPTY");
    assert.equal(await api.store.head(uploadKey), null);
  });

  it("should answer UNSUPPORTED_FORMAT and leave the study unchanged when the bytes are not an image", async () => {
    const studyId = await createStudy(api, key());
    const uploadKey = await upload(api, key(), new TextEncoder().encode("this is not a png at all"));
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "PNG" } });
    assert.deepEqual(codes(res), ["UNSUPPORTED_FORMAT"]);
    await assertUnchanged(studyId);
  });

  it("should answer UNSUPPORTED_FORMAT and leave the study unchanged when a PNG is declared as NIfTI", async () => {
    const studyId = await createStudy(api, key());
    const uploadKey = await upload(api, key(), greyPng(4, 4), "NIFTI", "application/octet-stream");
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "NIFTI" } });
    assert.deepEqual(codes(res), ["UNSUPPORTED_FORMAT"]);
    await assertUnchanged(studyId);
  });

  it("should answer an imaging error code and leave the study unchanged when the PNG is truncated", async () => {
    const studyId = await createStudy(api, key());
    const uploadKey = await upload(api, key(), greyPng(16, 16).slice(0, 40));
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "PNG" } });
    assert.ok(["IMAGING_TRUNCATED", "IMAGING_INCONSISTENT"].includes(codes(res)[0]!), JSON.stringify(res.body.errors));
    await assertUnchanged(studyId);
  });

  it("should answer UPLOAD_NOT_FOUND when the key was never uploaded", async () => {
    const studyId = await createStudy(api, key());
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [`orgs/${api.seed.orgA}/uploads/00000000-0000-4000-8000-000000000000`], format: "PNG" } });
    assert.deepEqual(codes(res), ["UPLOAD_NOT_FOUND"]);
    await assertUnchanged(studyId);
  });
});
