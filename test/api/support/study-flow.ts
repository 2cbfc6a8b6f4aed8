// GraphQL helpers for the common study flow (create, upload, import, label).
import assert from "node:assert/strict";
import type { ApiHarness } from "./api-harness.ts";
import { greyPng } from "./png-fixture.ts";
import { writeNifti } from "../../../imaging/nifti/nifti-writer.ts";
import { IDENTITY_DIRECTION_LPS } from "../../../imaging/volume.ts";

/** Creates a study and returns its id. */
export async function createStudy(api: ApiHarness, key: string, title = "study"): Promise<string> {
  const res = await api.gql(key, "mutation($t: String!) { createStudy(input: { title: $t }) { study { id } } }", { t: title });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return res.body.data!.createStudy.study.id as string;
}

/** Requests an upload URL, PUTs `bytes` to it and returns the upload key. */
export async function upload(api: ApiHarness, key: string, bytes: Uint8Array, format = "PNG", contentType = "image/png"): Promise<string> {
  const res = await api.gql(key, `mutation($i: RequestUploadInput!) { requestUpload(input: $i) { uploadKey url method headers } }`, {
    i: { format, contentType, sizeBytes: bytes.length },
  });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const ticket = res.body.data!.requestUpload;
  const put = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: Buffer.from(bytes) });
  assert.equal(put.status, 200, await put.text());
  return ticket.uploadKey as string;
}

/** Creates a study with one imported PNG slice; returns the study and slice ids. */
export async function studyWithSlice(api: ApiHarness, key: string): Promise<{ studyId: string; sliceId: string }> {
  const studyId = await createStudy(api, key);
  const uploadKey = await upload(api, key, greyPng(8, 6));
  const res = await api.gql(key, `mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { slices { edges { node { id } } } } } }`, {
    i: { studyId, uploadKeys: [uploadKey], format: "PNG" },
  });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  return { studyId, sliceId: res.body.data!.importStudy.study.slices.edges[0].node.id };
}

/** Creates a study with one imported NIfTI series of `n` 4×3 slices; returns the study id and slice ids in sliceIndex order. */
export async function studyWithSlices(api: ApiHarness, key: string, n: number): Promise<{ studyId: string; sliceIds: string[] }> {
  const studyId = await createStudy(api, key);
  const nifti = writeNifti({ dimsIJK: [4, 3, n], spacingMm: [1, 1, 2], originLPS: [0, 0, 0], directionLPS: IDENTITY_DIRECTION_LPS, unit: "HU", data: new Int16Array(12 * n) });
  const uploadKey = await upload(api, key, nifti, "NIFTI", "application/gzip");
  const res = await api.gql(key, `mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { slices { edges { node { id sliceIndex } } } } } }`, {
    i: { studyId, uploadKeys: [uploadKey], format: "NIFTI" },
  });
  assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
  const nodes = res.body.data!.importStudy.study.slices.edges.map((e: { node: { id: string; sliceIndex: number } }) => e.node);
  assert.deepEqual(nodes.map((s: { sliceIndex: number }) => s.sliceIndex), Array.from({ length: n }, (_, k) => k));
  return { studyId, sliceIds: nodes.map((s: { id: string }) => s.id) };
}
