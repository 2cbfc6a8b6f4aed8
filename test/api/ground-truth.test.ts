// Reference masks imported from a label volume, and a job's masks scored against them.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { studyWithSlices, upload } from "./support/study-flow.ts";
import { decodeRle, encodeRle } from "../../core/domain/rle.ts";
import { writeNifti } from "../../imaging/nifti/nifti-writer.ts";
import { IDENTITY_DIRECTION_LPS, type VoxelArray } from "../../imaging/volume.ts";

const IMPORT_GT = `mutation($i: ImportGroundTruthInput!) { importGroundTruth(input: $i) { series { id } slices positiveSlices foregroundVoxels } }`;
const REQUEST = "mutation($i: RequestSegmentationInput!) { requestSegmentation(input: $i) { job { id } } }";
const EVALUATION = `query($id: ID!) { segmentationJob(id: $id) { evaluation { slicesWithGroundTruth positiveSlices truePositivePx falsePositivePx
  falseNegativePx pooledIoU pooledDice meanIoU stdIoU falsePositiveSlices } } }`;
const GROUND_TRUTH = `query($id: ID!) { study(id: $id) { series { id } slices { edges { node { id sliceIndex groundTruth { width height rle } } } } } }`;

/** A 4×3×n label volume on studyWithSlices' grid (spacing 1, 1, 2; origin 0; identity), or another one. */
function labelNifti(data: VoxelArray, n: number, grid: { dims?: [number, number, number]; spacing?: [number, number, number] } = {}): Uint8Array {
  return writeNifti(
    { dimsIJK: grid.dims ?? [4, 3, n], spacingMm: grid.spacing ?? [1, 1, 2], originLPS: [0, 0, 0], directionLPS: IDENTITY_DIRECTION_LPS, unit: "label", data },
    { intentCode: 1002 },
  );
}

describe("ground truth import and job evaluation", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness({ handler: () => ({ handle: async () => {} }) })));
  after(async () => api.close());
  const key = () => api.seed.annotatorA.key;

  /** A 3-slice study, its series id and slice ids. */
  async function study(): Promise<{ studyId: string; seriesId: string; sliceIds: string[] }> {
    const { studyId, sliceIds } = await studyWithSlices(api, key(), 3);
    const res = await api.gql(key(), GROUND_TRUTH, { id: studyId });
    return { studyId, seriesId: res.body.data!.study.series[0].id, sliceIds };
  }

  /** Each slice's stored reference mask as 0/1 per pixel, in slice order (null where none). */
  async function storedMasks(studyId: string): Promise<(number[] | null)[]> {
    const res = await api.gql(key(), GROUND_TRUTH, { id: studyId });
    return res.body.data!.study.slices.edges
      .map((e: any) => e.node)
      .sort((a: any, b: any) => a.sliceIndex - b.sliceIndex)
      .map((n: any) => (n.groundTruth ? [...decodeRle(n.groundTruth.rle, n.groundTruth.width * n.groundTruth.height)] : null));
  }

  async function importGt(studyId: string, seriesId: string, bytes: Uint8Array, extra: Record<string, unknown> = {}, as = key()) {
    const uploadKey = await upload(api, as, bytes, "NIFTI", "application/gzip");
    return { uploadKey, res: await api.gql(as, IMPORT_GT, { i: { studyId, seriesId, uploadKeys: [uploadKey], format: "NIFTI", ...extra } }) };
  }

  // Slice 0: labels 1 at pixels 0-1 and 2 at pixel 5; slice 1: nothing; slice 2: label 2 at pixels 10-11.
  const labels = new Uint8Array(36);
  labels.set([1, 1], 0);
  labels[5] = 2;
  labels.set([2, 2], 24 + 10);

  it("should store one reference mask per slice, empty ones included, and replace them when the label values change", async () => {
    const { studyId, seriesId } = await study();
    const { res, uploadKey } = await importGt(studyId, seriesId, labelNifti(labels, 3));
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.deepEqual(res.body.data!.importGroundTruth, { series: { id: seriesId }, slices: 3, positiveSlices: 2, foregroundVoxels: 5 });
    const masks = await storedMasks(studyId);
    assert.deepEqual(masks[0], [1, 1, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.deepEqual(masks[1], new Array(12).fill(0));
    assert.deepEqual(masks[2], [0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1]);
    assert.equal(await api.store.head(uploadKey), null, "the upload is deleted once imported");

    const again = await importGt(studyId, seriesId, labelNifti(labels, 3), { labelValues: [2] });
    assert.deepEqual(again.res.body.data!.importGroundTruth, { series: { id: seriesId }, slices: 3, positiveSlices: 2, foregroundVoxels: 3 });
    assert.deepEqual((await storedMasks(studyId))[0], [0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0]);
    assert.equal(await api.db.prisma.groundTruthMask.count({ where: { slice: { studyId } } }), 3);
  });

  it("should score a job's masks against the reference masks by the pooled protocol", async () => {
    const { studyId, seriesId, sliceIds } = await study();
    const none = await api.gql(key(), REQUEST, { i: { studyId, method: "COIN" } });
    const jobId = none.body.data!.requestSegmentation.job.id as string;
    await api.services.jobs.markRunning(api.seed.orgA, jobId);
    const save = (k: number, mask: number[]) =>
      api.services.jobs.saveResult(api.seed.orgA, {
        jobId, sliceId: sliceIds[k]!, width: 4, height: 3, maskRle: encodeRle(mask), bbox: [], areaPx: mask.filter(Boolean).length,
        pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {},
      });
    // Slice 0 (truth: pixels 0, 1, 5): mask 0, 1, 2 → TP 2, FP 1, FN 1. Slice 1 (empty truth): mask pixel 7 → a false alarm.
    // Slice 2 (truth: 10, 11): mask 11 → TP 1, FN 1.
    const pixels = (...on: number[]) => Array.from({ length: 12 }, (_, p) => (on.includes(p) ? 1 : 0));
    await save(0, pixels(0, 1, 2));
    await save(1, pixels(7));
    await save(2, pixels(11));
    let res = await api.gql(key(), EVALUATION, { id: jobId });
    assert.equal(res.body.data!.segmentationJob.evaluation, null, "no reference masks yet");

    assert.equal((await importGt(studyId, seriesId, labelNifti(labels, 3))).res.body.errors, undefined);
    res = await api.gql(api.seed.viewerA.key, EVALUATION, { id: jobId });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    const e = res.body.data!.segmentationJob.evaluation;
    assert.deepEqual({ ...e, meanIoU: undefined, stdIoU: undefined, pooledIoU: undefined, pooledDice: undefined }, {
      slicesWithGroundTruth: 3, positiveSlices: 2, truePositivePx: 3, falsePositivePx: 1, falseNegativePx: 2, falsePositiveSlices: 1,
      meanIoU: undefined, stdIoU: undefined, pooledIoU: undefined, pooledDice: undefined,
    });
    assert.equal(e.pooledIoU, 3 / 6);
    assert.equal(e.pooledDice, 6 / 9);
    assert.ok(Math.abs(e.meanIoU - (2 / 4 + 1 / 2) / 2) < 1e-12);
    assert.ok(Math.abs(e.stdIoU - 0) < 1e-12);
  });

  it("should answer GROUND_TRUTH_MISMATCH and keep the stored masks when the label volume's grid is not the series'", async () => {
    const { studyId, seriesId } = await study();
    assert.equal((await importGt(studyId, seriesId, labelNifti(labels, 3))).res.body.errors, undefined);
    const before = await storedMasks(studyId);
    for (const grid of [{ dims: [4, 3, 2] as [number, number, number] }, { dims: [3, 4, 3] as [number, number, number] }, { spacing: [1, 1, 2.5] as [number, number, number] }]) {
      const n = grid.dims ? grid.dims[0] * grid.dims[1] * grid.dims[2] : 36;
      const { res, uploadKey } = await importGt(studyId, seriesId, labelNifti(new Uint8Array(n).fill(1), 3, grid));
      assert.deepEqual(codes(res), ["GROUND_TRUTH_MISMATCH"], JSON.stringify(grid));
      assert.notEqual(await api.store.head(uploadKey), null, "a mismatched upload is kept for a retry on another series");
    }
    assert.deepEqual(await storedMasks(studyId), before);
  });

  it("should answer BAD_USER_INPUT and store nothing when the upload is an image rather than a label volume, or the label values are bad", async () => {
    const { studyId, seriesId } = await study();
    const ct = new Int16Array(36).map((_, i) => i - 1000);
    assert.deepEqual(codes((await importGt(studyId, seriesId, labelNifti(ct, 3))).res), ["BAD_USER_INPUT"]);
    const fractional = new Float32Array(36).fill(0.5);
    assert.deepEqual(codes((await importGt(studyId, seriesId, labelNifti(fractional, 3))).res), ["BAD_USER_INPUT"]);
    for (const labelValues of [[], [0], [1, 1], [70000]]) {
      const { res } = await importGt(studyId, seriesId, labelNifti(labels, 3), { labelValues });
      assert.deepEqual(codes(res), ["BAD_USER_INPUT"], JSON.stringify(labelValues));
      assert.equal(res.body.errors![0]!.extensions!["field"], "labelValues");
    }
    assert.deepEqual(codes((await importGt(studyId, seriesId, labelNifti(labels, 3), { labelValues: [1.5] })).res), ["BAD_USER_INPUT"], "not an Int");
    assert.deepEqual(await storedMasks(studyId), [null, null, null]);
  });

  it("should answer NOT_FOUND for another organisation's or another study's series, and FORBIDDEN for a viewer", async () => {
    const { studyId, seriesId } = await study();
    const other = await study();
    assert.deepEqual(codes((await importGt(studyId, other.seriesId, labelNifti(labels, 3))).res), ["NOT_FOUND"]);
    assert.deepEqual(codes((await importGt(studyId, "not-a-uuid", labelNifti(labels, 3))).res), ["NOT_FOUND"]);
    const uploadKey = await upload(api, key(), labelNifti(labels, 3), "NIFTI", "application/gzip");
    const asB = await api.gql(api.seed.adminB.key, IMPORT_GT, { i: { studyId, seriesId, uploadKeys: [uploadKey], format: "NIFTI" } });
    assert.deepEqual(codes(asB), ["NOT_FOUND"]);
    const asViewer = await api.gql(api.seed.viewerA.key, IMPORT_GT, { i: { studyId, seriesId, uploadKeys: [uploadKey], format: "NIFTI" } });
    assert.deepEqual(codes(asViewer), ["FORBIDDEN"]);
    assert.deepEqual(await storedMasks(studyId), [null, null, null]);
    assert.deepEqual(await storedMasks(other.studyId), [null, null, null]);
  });
});
