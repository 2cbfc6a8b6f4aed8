// GET /jobs/:id/masks.nii.gz (a job's masks as a NIfTI label volume), against real Postgres.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, type ApiHarness } from "./support/api-harness.ts";
import { createStudy, upload } from "./support/study-flow.ts";
import { lambdaBinaryResponse } from "../../app/api/binary-route.ts";
import { encodeRle } from "../../core/domain/rle.ts";
import { decodeNifti } from "../../imaging/nifti/nifti-decoder.ts";
import { writeNifti } from "../../imaging/nifti/nifti-writer.ts";
import type { Volume } from "../../imaging/volume.ts";

const IMPORT = "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { series { id } slices { edges { node { id sliceIndex seriesId } } } } } }";
const REQUEST = "mutation($i: RequestSegmentationInput!) { requestSegmentation(input: $i) { job { id masksPath } } }";

/** A 5×4×3 CT volume with an oblique-free but shifted, anisotropic grid (axes i → −L, j → P, k → S). */
type Grid = Pick<Volume, "dimsIJK" | "spacingMm" | "originLPS" | "directionLPS">;
const GRID: Grid = { dimsIJK: [5, 4, 3], spacingMm: [0.75, 0.8, 2.5], originLPS: [12, -30, 41], directionLPS: [[-1, 0, 0], [0, 1, 0], [0, 0, 1]] };

describe("job mask volume route", () => {
  let api: ApiHarness;
  let studyId: string;
  let seriesId: string;
  let jobId: string;
  let masksPath: string;
  const key = () => api.seed.annotatorA.key;
  const masks = [[0, 1, 6, 7], null, [19]] as const; // slice 0: four pixels; slice 1: no result; slice 2: the last pixel
  const plane = 5 * 4;

  /** Imports one more series into the study; returns its id and its slices' ids by index. */
  async function importSeries(grid: Grid): Promise<{ seriesId: string; sliceIds: string[] }> {
    const nifti = writeNifti({ ...grid, unit: "HU", data: new Int16Array(grid.dimsIJK[0] * grid.dimsIJK[1] * grid.dimsIJK[2]) });
    const res = await api.gql(key(), IMPORT, { i: { studyId, uploadKeys: [await upload(api, key(), nifti, "NIFTI", "application/gzip")], format: "NIFTI" } });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const study = res.body.data!.importStudy.study;
    const id = study.series.at(-1).id as string;
    const nodes = study.slices.edges.map((e: any) => e.node).filter((n: any) => n.seriesId === id).sort((a: any, b: any) => a.sliceIndex - b.sliceIndex);
    return { seriesId: id, sliceIds: nodes.map((n: any) => n.id) };
  }

  before(async () => {
    api = await startApiHarness({ handler: () => ({ handle: async () => {} }) });
    studyId = await createStudy(api, key());
    const first = await importSeries(GRID);
    seriesId = first.seriesId;
    const res = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } });
    ({ id: jobId, masksPath } = res.body.data!.requestSegmentation.job);
    await api.services.jobs.markRunning(api.seed.orgA, jobId);
    for (const [k, on] of masks.entries()) {
      if (!on) continue;
      const mask = Array.from({ length: plane }, (_, p) => ((on as readonly number[]).includes(p) ? 1 : 0));
      await api.services.jobs.saveResult(api.seed.orgA, {
        jobId, sliceId: first.sliceIds[k]!, width: 5, height: 4, maskRle: encodeRle(mask), bbox: [], areaPx: on.length,
        pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {},
      });
    }
  });
  after(async () => api.close());

  const get = (path: string, as: string | null) => fetch(`${api.server.baseUrl}${path}`, { headers: as ? { "x-api-key": as } : {} });

  it("should answer the stored masks as a label volume on the series' grid, empty where a slice has no result", async () => {
    assert.equal(masksPath, `/jobs/${jobId}/masks.nii.gz`);
    const res = await get(masksPath, api.seed.viewerA.key);
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "application/gzip");
    assert.equal(res.headers.get("content-disposition"), `attachment; filename="job-${jobId}-series-${seriesId}-masks.nii.gz"`);
    assert.equal(res.headers.get("x-coinseg-result-slices"), "2");
    assert.equal(res.headers.get("x-coinseg-job-status"), "RUNNING");
    assert.equal(res.headers.get("cache-control"), "private, no-cache");
    const volume = decodeNifti(new Uint8Array(await res.arrayBuffer()));
    assert.deepEqual(volume.dimsIJK, GRID.dimsIJK);
    assert.equal(volume.unit, "label");
    for (let a = 0; a < 3; a++) {
      assert.ok(Math.abs(volume.spacingMm[a]! - GRID.spacingMm[a]!) < 1e-5, `spacing ${a}`);
      assert.ok(Math.abs(volume.originLPS[a]! - GRID.originLPS[a]!) < 1e-4, `origin ${a}`);
      for (let b = 0; b < 3; b++) assert.ok(Math.abs(volume.directionLPS[a]![b]! - GRID.directionLPS[a]![b]!) < 1e-6, `direction ${a},${b}`);
    }
    const expected = new Array(plane * 3).fill(0);
    for (const [k, on] of masks.entries()) for (const p of on ?? []) expected[k * plane + p] = 1;
    assert.deepEqual([...volume.data], expected);
  });

  it("should answer 401 without credentials and 404 for another organisation's job, an unknown id and a series of no study of the job", async () => {
    const none = await get(masksPath, null);
    assert.deepEqual([none.status, ((await none.json()) as { code: string }).code], [401, "UNAUTHENTICATED"]);
    for (const [path, as] of [
      [masksPath, api.seed.adminB.key],
      [`/jobs/00000000-0000-4000-8000-000000000000/masks.nii.gz`, key()],
      [`/jobs/not-a-uuid/masks.nii.gz`, key()],
      [`${masksPath}?series=00000000-0000-4000-8000-000000000000`, key()],
    ] as const) {
      const res = await get(path, as);
      assert.deepEqual([res.status, ((await res.json()) as { code: string }).code], [404, "NOT_FOUND"], path);
    }
  });

  it("should ask which series with BAD_USER_INPUT once the study has two, and answer each on its own grid", async () => {
    const second = await importSeries({ ...GRID, dimsIJK: [3, 2, 2] });
    const ambiguous = await get(masksPath, key());
    assert.equal(ambiguous.status, 400);
    assert.deepEqual(await ambiguous.json(), { code: "BAD_USER_INPUT", message: "the study has 2 series: name one" });
    const other = await get(`${masksPath}?series=${second.seriesId}`, key());
    assert.equal(other.headers.get("x-coinseg-result-slices"), "0");
    const volume = decodeNifti(new Uint8Array(await other.arrayBuffer()));
    assert.deepEqual([volume.dimsIJK, [...volume.data].some(Boolean)], [[3, 2, 2], false]);
    const first = decodeNifti(new Uint8Array(await (await get(`${masksPath}?series=${seriesId}`, key())).arrayBuffer()));
    assert.equal([...first.data].filter(Boolean).length, 5);
  });

  it("should base64-encode bytes for API Gateway and answer 413 IMAGING_TOO_LARGE where API Gateway would refuse the body", () => {
    const small = lambdaBinaryResponse({ status: 200, contentType: "application/gzip", body: new Uint8Array([1, 2, 3]), headers: { "x-a": "b" } });
    assert.deepEqual(small, { statusCode: 200, headers: { "content-type": "application/gzip", "x-a": "b" }, body: "AQID", isBase64Encoded: true });
    const big = lambdaBinaryResponse({ status: 200, contentType: "application/gzip", body: new Uint8Array(5 * 1024 * 1024), headers: {} });
    assert.equal(big.statusCode, 413);
    assert.equal(JSON.parse(big.body).code, "IMAGING_TOO_LARGE");
  });
});
