// The upload size limit at import time: the stored object may be empty or too large even when
// requestUpload was given a valid size (a presigned S3 PUT cannot enforce it). And what becomes of
// the uploads: deleted after an import or when their content is refused, kept for a retry otherwise.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import { S3ObjectStore } from "../../adapters/storage/s3-object-store.ts";
import type { ObjectInfo, ObjectStore } from "../../core/ports/object-store.port.ts";
import { writeDicomSeries } from "../../imaging/dicom/dicom-series-writer.ts";
import { IDENTITY_DIRECTION_LPS } from "../../imaging/volume.ts";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { createStudy } from "./support/study-flow.ts";
import { greyPng } from "./support/png-fixture.ts";

const MAX = 4096;
const IMPORT = "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id } } }";
const REQUEST = "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadKey url method headers } }";

/** Everything importStudy could change: the study row, its series, slices and labels. */
async function studyState(api: ApiHarness, studyId: string): Promise<string> {
  const prisma = api.db.prisma;
  return JSON.stringify({
    study: await prisma.study.findUniqueOrThrow({ where: { id: studyId } }),
    series: await prisma.series.findMany({ where: { studyId }, orderBy: { id: "asc" } }),
    slices: await prisma.slice.findMany({ where: { studyId }, orderBy: { id: "asc" } }),
    labels: await prisma.label.findMany({ where: { studyId }, orderBy: { id: "asc" } }),
  });
}

/** A READY study with one PNG slice, a slice label and a study label. */
async function labelledStudy(api: ApiHarness): Promise<string> {
  const key = api.seed.annotatorA.key;
  const studyId = await createStudy(api, key);
  const imported = await api.gql(key, "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { slices { edges { node { id } } } } } }", {
    i: { studyId, uploadKeys: [await storedUpload(api, greyPng(8, 6))], format: "PNG" },
  });
  assert.equal(imported.body.errors, undefined, JSON.stringify(imported.body.errors));
  const sliceId = imported.body.data!.importStudy.study.slices.edges[0].node.id as string;
  const res = await api.gql(key, "mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { id } } }", { i: { studyId, labels: [{ sliceId, value: "ABNORMAL" }, { value: "NORMAL" }] } });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return studyId;
}

/** An upload key of org A whose object is then written straight to the store, as a client could via S3. */
async function storedUpload(api: ApiHarness, bytes: Uint8Array, format = "PNG", contentType = "image/png"): Promise<string> {
  const res = await api.gql(api.seed.annotatorA.key, REQUEST, { i: { format, contentType, sizeBytes: 100 } });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const uploadKey = res.body.data!.requestUpload.uploadKey as string;
  await api.store.put(uploadKey, bytes, contentType);
  return uploadKey;
}

/** Whether each upload is still in the store. */
async function uploadsLeft(api: ApiHarness, uploadKeys: readonly string[]): Promise<boolean[]> {
  return Promise.all(uploadKeys.map(async (k) => (await api.store.head(k)) !== null));
}

/** Imports, expects `code`, an unchanged study, and the uploads deleted or kept as said. */
async function assertImportRefused(api: ApiHarness, studyId: string, uploadKeys: string[], format: string, code: string, uploads: "DELETED" | "KEPT"): Promise<void> {
  const before = await studyState(api, studyId);
  const res = await api.gql(api.seed.annotatorA.key, IMPORT, { i: { studyId, uploadKeys, format } });
  assert.deepEqual(codes(res), [code]);
  assert.equal(await studyState(api, studyId), before, "the study, its series, slices and labels are unchanged");
  assert.deepEqual(await uploadsLeft(api, uploadKeys), uploadKeys.map(() => uploads === "KEPT"), `uploads ${uploads.toLowerCase()}`);
}

/** Imports a PNG and checks that the upload is gone while the stored slice still reads back. */
async function assertImportedAndUploadDeleted(api: ApiHarness, studyId: string): Promise<void> {
  const png = greyPng(8, 6);
  const uploadKey = await storedUpload(api, png);
  const res = await api.gql(api.seed.annotatorA.key, IMPORT, { i: { studyId, uploadKeys: [uploadKey], format: "PNG" } });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  assert.deepEqual(await uploadsLeft(api, [uploadKey]), [false], "the upload is deleted once its pixels are stored");
  const slices = await api.db.prisma.slice.findMany({ where: { studyId } });
  assert.ok(slices.length > 0);
  for (const slice of slices) assert.equal((await api.store.get(slice.storageKey))?.byteLength, 8 * 6 * 4, "the slices' own pixels stay");
}

const tinyDicom = (): Uint8Array[] =>
  writeDicomSeries({ dimsIJK: [4, 3, 2], spacingMm: [1, 1, 2], originLPS: [0, 0, 0], directionLPS: IDENTITY_DIRECTION_LPS, unit: "HU", data: new Int16Array(24) });

describe("upload size at import, local store", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness({ uploadMaxBytes: MAX })));
  after(async () => api.close());

  it("should answer UPLOAD_EMPTY, leave the study as it was and delete the upload when the stored upload is empty", async () => {
    const studyId = await labelledStudy(api);
    await assertImportRefused(api, studyId, [await storedUpload(api, new Uint8Array(0))], "PNG", "UPLOAD_EMPTY", "DELETED");
  });

  it("should answer UPLOAD_TOO_LARGE, leave the study as it was and delete the upload when the stored upload exceeds UPLOAD_MAX_BYTES", async () => {
    const studyId = await labelledStudy(api);
    const png = greyPng(8, 6);
    const oversized = new Uint8Array(MAX + 1);
    oversized.set(png);
    await assertImportRefused(api, studyId, [await storedUpload(api, oversized)], "PNG", "UPLOAD_TOO_LARGE", "DELETED");
  });

  it("should answer UPLOAD_TOO_LARGE, store no slice and delete every file of the series when one file of a DICOM series is too large", async () => {
    const studyId = await labelledStudy(api);
    const [a, b] = tinyDicom();
    const big = new Uint8Array(MAX + 1);
    big.set(b!);
    const keys = [await storedUpload(api, a!, "DICOM", "application/dicom"), await storedUpload(api, big, "DICOM", "application/dicom")];
    await assertImportRefused(api, studyId, keys, "DICOM", "UPLOAD_TOO_LARGE", "DELETED");
  });

  it("should import the same study and delete the upload when the stored upload is within the limit", async () => {
    const studyId = await labelledStudy(api);
    await assertImportedAndUploadDeleted(api, studyId);
    assert.equal(await api.db.prisma.slice.count({ where: { studyId } }), 2);
  });

  it("should answer IMAGING_TRUNCATED and delete every upload of the series when a file is corrupt", async () => {
    const studyId = await labelledStudy(api);
    const [a, b] = tinyDicom();
    const truncated = b!.subarray(0, b!.length - 10);
    const keys = [await storedUpload(api, a!, "DICOM", "application/dicom"), await storedUpload(api, truncated, "DICOM", "application/dicom")];
    await assertImportRefused(api, studyId, keys, "DICOM", "IMAGING_TRUNCATED", "DELETED");
  });

  it("should keep the uploads for a retry when the declared format does not match the bytes", async () => {
    const studyId = await labelledStudy(api);
    const keys = [await storedUpload(api, greyPng(8, 6))];
    await assertImportRefused(api, studyId, keys, "NIFTI", "UNSUPPORTED_FORMAT", "KEPT");
    const retry = await api.gql(api.seed.annotatorA.key, IMPORT, { i: { studyId, uploadKeys: keys, format: "PNG" } });
    assert.equal(retry.body.errors, undefined, JSON.stringify(retry.body.errors));
    assert.deepEqual(await uploadsLeft(api, keys), [false]);
  });

  it("should keep the uploads for a retry when one upload of a series is missing", async () => {
    const studyId = await labelledStudy(api);
    const [a] = tinyDicom();
    const present = await storedUpload(api, a!, "DICOM", "application/dicom");
    const missing = `orgs/${api.seed.orgA}/uploads/00000000-0000-4000-8000-000000000000`;
    const before = await studyState(api, studyId);
    const res = await api.gql(api.seed.annotatorA.key, IMPORT, { i: { studyId, uploadKeys: [present, missing], format: "DICOM" } });
    assert.deepEqual(codes(res), ["UPLOAD_NOT_FOUND"]);
    assert.equal(await studyState(api, studyId), before);
    assert.deepEqual(await uploadsLeft(api, [present]), [true]);
  });

  it("should keep the uploads and delete nothing when the study is not found or a key is not the caller's", async () => {
    const png = await storedUpload(api, greyPng(8, 6));
    const otherOrgStudy = await createStudy(api, api.seed.adminB.key);
    const res = await api.gql(api.seed.annotatorA.key, IMPORT, { i: { studyId: otherOrgStudy, uploadKeys: [png], format: "PNG" } });
    assert.deepEqual(codes(res), ["NOT_FOUND"]);
    assert.deepEqual(await uploadsLeft(api, [png]), [true]);
    // Organisation B names A's upload: refused before anything is read or deleted.
    const foreign = await api.gql(api.seed.adminB.key, IMPORT, { i: { studyId: otherOrgStudy, uploadKeys: [png], format: "PNG" } });
    assert.deepEqual(codes(foreign), ["UPLOAD_NOT_FOUND"]);
    assert.deepEqual(await uploadsLeft(api, [png]), [true]);
  });
});

/** A store whose HEAD answers an out-of-date size, as when an object is replaced between HEAD and GET. */
class StaleHeadStore implements ObjectStore {
  constructor(private readonly inner: ObjectStore) {}
  put(key: string, bytes: Uint8Array, contentType?: string) { return this.inner.put(key, bytes, contentType); }
  get(key: string) { return this.inner.get(key); }
  async head(key: string): Promise<ObjectInfo | null> {
    const info = await this.inner.head(key);
    return info && { ...info, sizeBytes: Math.min(info.sizeBytes, 100) };
  }
  deletePrefix(prefix: string) { return this.inner.deletePrefix(prefix); }
  deleteObjects(keys: readonly string[]) { return this.inner.deleteObjects(keys); }
  createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }) { return this.inner.createUploadUrl(key, options); }
}

describe("upload size at import, object replaced after HEAD", () => {
  let api: ApiHarness;
  let dir: string;
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-stale-head-"));
    // The upload URL is never fetched here: objects are written straight to the store.
    const local = new LocalObjectStore({ rootDir: dir, publicBaseUrl: () => "http://127.0.0.1:9", signingSecret: "y".repeat(32) });
    api = await startApiHarness({ uploadMaxBytes: MAX, objectStore: new StaleHeadStore(local) });
  });
  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("should answer UPLOAD_TOO_LARGE when the bytes read exceed the limit although HEAD said they did not", async () => {
    const studyId = await labelledStudy(api);
    await assertImportRefused(api, studyId, [await storedUpload(api, new Uint8Array(MAX + 1))], "PNG", "UPLOAD_TOO_LARGE", "DELETED");
  });
});

// moto's S3 (started by .ci/run): python3 -m moto.server -p 4566 -H 127.0.0.1
const motoEndpoint = process.env.MOTO_ENDPOINT_URL;

describe("upload size at import, S3 on moto", () => {
  let api: ApiHarness;
  let s3: S3ObjectStore;
  before(async () => {
    assert.ok(motoEndpoint, "MOTO_ENDPOINT_URL is not set: start moto (python3 -m moto.server -p 4566 -H 127.0.0.1) and export MOTO_ENDPOINT_URL=http://127.0.0.1:4566, as .ci/run does");
    const bucket = `coinseg-limits-${randomBytes(4).toString("hex")}`;
    s3 = new S3ObjectStore({ bucket, region: "us-east-1", endpoint: motoEndpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.client.send(new CreateBucketCommand({ Bucket: bucket }));
    api = await startApiHarness({ uploadMaxBytes: MAX, objectStore: s3 });
  });
  after(async () => {
    await api?.close();
    s3?.client.destroy();
  });

  /** requestUpload with a valid size, then a PUT of `bytes` to the presigned URL, which S3 accepts whatever their size. */
  async function presignedUpload(bytes: Uint8Array): Promise<string> {
    const res = await api.gql(api.seed.annotatorA.key, REQUEST, { i: { format: "PNG", contentType: "image/png", sizeBytes: 100 } });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const ticket = res.body.data!.requestUpload;
    const put = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: Buffer.from(bytes) });
    assert.equal(put.status, 200, await put.text());
    assert.equal((await s3.head(ticket.uploadKey))?.sizeBytes, bytes.length);
    return ticket.uploadKey as string;
  }

  it("should answer UPLOAD_EMPTY, leave the study as it was and delete the object when an empty body was PUT to the presigned URL", async () => {
    const studyId = await labelledStudy(api);
    await assertImportRefused(api, studyId, [await presignedUpload(new Uint8Array(0))], "PNG", "UPLOAD_EMPTY", "DELETED");
  });

  it("should answer UPLOAD_TOO_LARGE, leave the study as it was and delete the object when more than UPLOAD_MAX_BYTES were PUT to the presigned URL", async () => {
    const studyId = await labelledStudy(api);
    await assertImportRefused(api, studyId, [await presignedUpload(new Uint8Array(MAX + 1))], "PNG", "UPLOAD_TOO_LARGE", "DELETED");
  });

  it("should delete the upload from the bucket and keep the slice's pixels when an import succeeds", async () => {
    const studyId = await labelledStudy(api);
    await assertImportedAndUploadDeleted(api, studyId);
  });

  it("should keep the upload in the bucket for a retry when the declared format does not match the bytes", async () => {
    const studyId = await labelledStudy(api);
    await assertImportRefused(api, studyId, [await presignedUpload(greyPng(8, 6))], "DICOM", "UNSUPPORTED_FORMAT", "KEPT");
  });
});
