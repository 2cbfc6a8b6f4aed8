// GraphQL helpers for the common study flow (create, upload, import, label).
import assert from "node:assert/strict";
import type { ApiHarness } from "./api-harness.ts";
import { greyPng } from "./png-fixture.ts";

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
