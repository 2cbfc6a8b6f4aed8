import assert from "node:assert/strict";
import { after, describe, it } from "node:test";
import { cleanUpMask } from "../../imaging/mask/clean-up-mask.ts";
import { mapToNativeMask } from "../../imaging/mask/map-to-native-mask.ts";
import { refineMask } from "../../imaging/mask/refine-mask.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import { resizeBilinear } from "../../imaging/preprocess/bilinear-resize.ts";
import type { Image2D } from "../../imaging/volume.ts";
import type { InferenceEngine } from "../../workers/engine/inference-engine.port.ts";
import type { ModelSpec } from "../../workers/engine/model-spec.ts";
import { SegmentationPipeline } from "../../workers/pipeline/segmentation-pipeline.ts";
import { maxAbsDiff, readFloat32, tinyEngine } from "./support/tiny-models.ts";

const engine = tinyEngine();
after(() => engine.release());
const pipeline = new SegmentationPipeline({ engine });

/** Golden image i turned back into HU with the tiny models' window [−160, 340] (128 × 128 native). */
function goldenSliceHU(i: number): Image2D<Float32Array> {
  const x = readFloat32("tiny-classifier/golden/x.bin").subarray(i * 128 * 128, (i + 1) * 128 * 128);
  return { width: 128, height: 128, data: Float32Array.from(x, (v) => ((v + 1) / 2) * 500 - 160) };
}

describe("SegmentationPipeline", () => {
  it("should report a slice the classifier calls normal with an empty mask when segmentation is not forced", async () => {
    const [abnormal, normal] = await pipeline.segment({
      method: "COIN",
      classifierKey: "tiny-classifier",
      generatorKey: "tiny-coin",
      slices: [goldenSliceHU(0), goldenSliceHU(1)],
    });
    assert.equal(normal!.abnormal, false);
    assert.equal(normal!.segmented, false);
    assert.equal(normal!.areaPx, 0);
    assert.equal(normal!.maskRle, "128x128:16384");
    assert.equal(normal!.bbox, null);
    assert.equal(normal!.pAfter, normal!.pBefore);
    assert.equal(abnormal!.abnormal, true);
    assert.equal(abnormal!.segmented, true);
    assert.ok(abnormal!.pBefore > 0.9);
  });

  it("should segment a normal slice when forceSegmentation is set", async () => {
    const [normal] = await pipeline.segment({
      method: "LAYER_CAM",
      classifierKey: "tiny-classifier",
      slices: [goldenSliceHU(1)],
      params: { forceSegmentation: true },
    });
    assert.equal(normal!.segmented, true);
    assert.ok(normal!.areaPx > 0);
    assert.equal(normal!.flipped, false);
  });

  it("should preprocess HU slices to the golden model input and record every stage's timing", async () => {
    const [r] = await pipeline.segment({ method: "COIN", classifierKey: "tiny-classifier", generatorKey: "tiny-coin", slices: [goldenSliceHU(2)] });
    assert.ok(maxAbsDiff(r!.model.x, readFloat32("tiny-classifier/golden/x.bin").subarray(2 * 16384, 3 * 16384)) < 1e-5);
    for (const stage of ["preprocess", "classify", "infer", "postprocess", "total"]) {
      assert.ok(typeof r!.timingsMs[stage] === "number" && r!.timingsMs[stage]! >= 0, stage);
    }
    assert.ok(r!.timingsMs.infer! > 0);
  });

  it("should apply the clean-up and attach a PNG when asked", async () => {
    const slices = [goldenSliceHU(0)];
    const [raw] = await pipeline.segment({ method: "COIN", classifierKey: "tiny-classifier", generatorKey: "tiny-coin", slices });
    const [clean] = await pipeline.segment({
      method: "COIN",
      classifierKey: "tiny-classifier",
      generatorKey: "tiny-coin",
      slices,
      params: { cleanUp: true, differencePng: true },
    });
    assert.deepEqual(clean!.model.mask.data, cleanUpMask(raw!.model.rawMask).data);
    assert.deepEqual(clean!.mask.data, cleanUpMask(raw!.mask).data); // clean-up on the native grid
    assert.deepEqual([...clean!.differencePng!.subarray(0, 4)], [0x89, 0x50, 0x4e, 0x47]);
  });

  it("should threshold the map upsampled to a native grid twice the model size", async () => {
    const small = goldenSliceHU(0);
    const big = new Float32Array(256 * 256);
    for (let r = 0; r < 256; r++) for (let c = 0; c < 256; c++) big[r * 256 + c] = small.data[(r >> 1) * 128 + (c >> 1)]!;
    const [r] = await pipeline.segment({
      method: "LAYER_CAM",
      classifierKey: "tiny-classifier",
      slices: [{ width: 256, height: 256, data: big }],
    });
    assert.equal(r!.mask.width, 256);
    const expected = mapToNativeMask({ width: 128, height: 128, data: r!.model.map! }, 256, 256, 0.975);
    assert.deepEqual(r!.mask.data, expected.data);
    const modelArea = r!.model.mask.data.reduce((s, v) => s + v, 0);
    assert.ok(modelArea > 0);
    assert.equal(r!.areaPx, expected.data.reduce((s, v) => s + v, 0));
    // Same region, finer outline: within one model pixel's width of the 2×2-block copy.
    assert.ok(Math.abs(r!.areaPx - 4 * modelArea) < 2 * modelArea, `${r!.areaPx} vs ${4 * modelArea}`);
  });

  it("should refine the mask on both grids from the lower threshold when refine is set", async () => {
    const slices = [goldenSliceHU(0)];
    const request = { method: "COIN" as const, classifierKey: "tiny-classifier", generatorKey: "tiny-coin", slices };
    const [raw] = await pipeline.segment(request);
    const [refined] = await pipeline.segment({ ...request, params: { refine: true, hysteresisThreshold: 0.1 } });
    const map = raw!.model.map!;
    assert.deepEqual(refined!.model.mask.data, refineMask(raw!.model.rawMask, thresholdMap(map, 128, 128, 0.1)).data);
    const native = (t: number) => mapToNativeMask({ width: 128, height: 128, data: map }, 128, 128, t);
    assert.deepEqual(refined!.mask.data, refineMask(native(0.25), native(0.1)).data);
    assert.deepEqual(refined!.model.rawMask.data, raw!.model.rawMask.data);
  });

  it("should run a generator at twice the classifier's size on the native grid and judge x_cf resized to the classifier's", async () => {
    // A native 256 × 256 slice: the golden image upsampled (tiny-coin-256's golden input) in HU.
    const x2 = readFloat32("tiny-coin-256/golden/x.bin");
    const slices = [0, 1].map((i) => ({ width: 256, height: 256, data: Float32Array.from(x2.subarray(i * 65536, (i + 1) * 65536), (v) => ((v + 1) / 2) * 500 - 160) }));
    const results = await pipeline.segment({ method: "COIN", classifierKey: "tiny-classifier", generatorKey: "tiny-coin-256", slices, params: { forceSegmentation: true } });
    const goldenCf = readFloat32("tiny-coin-256/golden/x_cf.bin");
    for (const [i, r] of results.entries()) {
      assert.equal(r.model.width, 256);
      assert.equal(r.model.map!.length, 65536);
      assert.ok(maxAbsDiff(r.model.x, x2.subarray(i * 65536, (i + 1) * 65536)) < 1e-5);
      const expectedMap = Float32Array.from(r.model.x, (v, k) => Math.abs(v - goldenCf[i * 65536 + k]!) / 2);
      assert.ok(maxAbsDiff(r.model.map!, expectedMap) < 1e-4);
      assert.deepEqual(r.model.rawMask.data, thresholdMap(r.model.map!, 256, 256, 0.25).data);
      assert.deepEqual(r.mask.data, r.model.mask.data); // native grid = the generator's grid
      // f judges the slice preprocessed at its own 128 and x_cf resized to 128 (the training's ResizedClassifier).
      const [at128] = await pipeline.segment({ method: "LAYER_CAM", classifierKey: "tiny-classifier", slices: [slices[i]!] });
      assert.equal(r.pBefore, at128!.pBefore);
      const cf128 = resizeBilinear({ width: 256, height: 256, data: goldenCf.subarray(i * 65536, (i + 1) * 65536) }, 128, 128);
      const { logit } = await engine.run("tiny-classifier", { x: { data: cf128.data, dims: [1, 1, 128, 128] } });
      assert.ok(Math.abs(r.pAfter - 1 / (1 + Math.exp(-logit!.data[0]!))) < 1e-5);
    }
    assert.ok(results[0]!.areaPx > 0);
  });

  it("should reject with MODEL_KIND_MISMATCH a generator whose size is not a multiple of the classifier's, or whose window differs", async () => {
    const changes: Partial<ModelSpec["preprocess"]>[] = [{ size: [192, 192] }, { windowHU: [-100, 340] }];
    for (const change of changes) {
      const skewed: InferenceEngine = {
        spec: async (key) => {
          const spec = await engine.spec(key);
          return key === "tiny-coin" ? { ...spec, preprocess: { ...spec.preprocess, ...change } } : spec;
        },
        run: (key, feeds, outputs) => engine.run(key, feeds, outputs),
      } as InferenceEngine;
      const request = { method: "COIN" as const, classifierKey: "tiny-classifier", generatorKey: "tiny-coin", slices: [goldenSliceHU(0)] };
      await assert.rejects(new SegmentationPipeline({ engine: skewed }).segment(request), { code: "MODEL_KIND_MISMATCH", message: /preprocess differently/ });
    }
  });

  it("should reject refine without a threshold to use, with cleanUp, or above the mask threshold", async () => {
    const request = { method: "COIN" as const, classifierKey: "tiny-classifier", generatorKey: "tiny-coin", slices: [goldenSliceHU(0)] };
    const cases: [object, RegExp][] = [
      [{ refine: true }, /no calibrated thresholds.hysteresis/],
      [{ refine: true, cleanUp: true, hysteresisThreshold: 0.1 }, /one of cleanUp and refine/],
      [{ refine: true, hysteresisThreshold: 0.3 }, /above the mask threshold 0.25/],
      [{ hysteresisThreshold: 0.1 }, /needs refine: true/],
    ];
    for (const [params, message] of cases) {
      await assert.rejects(pipeline.segment({ ...request, params }), { code: "INVALID_METHOD_INPUT", message });
    }
  });
});
