import assert from "node:assert/strict";
import { readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { counterfactualMask } from "../../workers/methods/counterfactual-mask.ts";
import { CounterfactualMethod } from "../../workers/methods/counterfactual-method.ts";
import { LayerCamMethod } from "../../workers/methods/layer-cam-method.ts";
import { RiseMaskCache } from "../../workers/methods/rise-mask-cache.ts";
import { generateRiseMasks } from "../../workers/methods/rise-masks.ts";
import { RiseMethod } from "../../workers/methods/rise-method.ts";
import { ScoreCamMethod } from "../../workers/methods/score-cam-method.ts";
import { isInferenceError } from "../../workers/errors/inference-error.ts";
import { FIXTURE_MODELS_DIR, maxAbsDiff, readFloat32, tinyEngine, tinyMethodInput } from "./support/tiny-models.ts";

const engine = tinyEngine();
after(() => engine.release());
const reference = JSON.parse(readFileSync(join(FIXTURE_MODELS_DIR, "reference", "reference.json"), "utf8")) as {
  rise: { n: number; s: number; p1: number; seed: number; file: string; masksFile: string; masksShape: number[] };
  scoreCam: { file: string };
  layerCam: { file: string };
};

describe("counterfactualMask", () => {
  it("should mark exactly the pixels whose half absolute difference exceeds 0.25 when given a hand-built pair", () => {
    // diff = |x − x_cf| / 2: 0, 0.25 (not >), 0.26, 1, 0.3, 0.2
    const x = new Float32Array([0.5, 1, 0.52, 1, -0.8, 0.1]);
    const xCf = new Float32Array([0.5, 0.5, 0, -1, -0.2, 0.5]);
    const { diff, mask } = counterfactualMask(x, xCf, 3, 2);
    assert.deepEqual([...mask.data], [0, 0, 1, 1, 1, 0]);
    assert.equal(mask.width, 3);
    assert.equal(mask.height, 2);
    assert.ok(Math.abs(diff[2]! - 0.26) < 1e-6);
  });

  it("should use a custom threshold when one is given", () => {
    const { mask } = counterfactualMask([0, 0], [0.3, 0.5], 2, 1, 0.2);
    assert.deepEqual([...mask.data], [0, 1]);
  });
});

describe("COIN and SINGLA", () => {
  it("should return the generator's x_cf, its mask and the classifier's P(abnormal) of x_cf when running COIN", async () => {
    const input = await tinyMethodInput(engine);
    const coin = new CounterfactualMethod("COIN", { engine, classifierKey: "tiny-classifier", generatorKey: "tiny-coin", batchSize: 3 });
    const out = await coin.run(input);
    const goldenCf = readFloat32("tiny-coin/golden/x_cf.bin");
    const plane = 128 * 128;
    const { logit } = await engine.run("tiny-classifier", { x: { data: goldenCf, dims: [4, 1, 128, 128] } }, ["logit"]);
    let maskPixels = 0;
    out.forEach((slice, i) => {
      assert.ok(maxAbsDiff(slice.xCf!, goldenCf.subarray(i * plane, (i + 1) * plane)) <= 1e-4);
      const expected = counterfactualMask(input.x.data.subarray(i * plane, (i + 1) * plane), goldenCf.subarray(i * plane, (i + 1) * plane), 128, 128);
      assert.deepEqual(slice.mask.data, expected.mask.data);
      assert.ok(Math.abs(slice.pAfter! - 1 / (1 + Math.exp(-logit!.data[i]!))) < 1e-6);
      maskPixels += slice.mask.data.reduce((s, v) => s + v, 0);
    });
    assert.ok(maskPixels > 0, "the tiny COIN generator changes some pixels by more than 0.25");
  });

  it("should condition the Singla generator on the flipped class when running SINGLA", async () => {
    // The tiny classifier calls golden images 0 and 2 abnormal and 1 and 3 normal, so the flipped
    // conditions are [0, 1, 0, 1] — exactly the conditions the golden x_cf was made with.
    const input = await tinyMethodInput(engine);
    const singla = new CounterfactualMethod("SINGLA", { engine, classifierKey: "tiny-classifier", generatorKey: "tiny-singla" });
    const out = await singla.run(input);
    const golden = readFloat32("tiny-singla/golden/x_cf.bin");
    const plane = 128 * 128;
    out.forEach((slice, i) => assert.ok(maxAbsDiff(slice.xCf!, golden.subarray(i * plane, (i + 1) * plane)) <= 1e-4, `slice ${i}`));
  });

  it("should reject with MODEL_KIND_MISMATCH when COIN is given the Singla generator", async () => {
    const input = await tinyMethodInput(engine, [0]);
    const coin = new CounterfactualMethod("COIN", { engine, classifierKey: "tiny-classifier", generatorKey: "tiny-singla" });
    await assert.rejects(coin.run(input), (e: unknown) => isInferenceError(e, "MODEL_KIND_MISMATCH"));
  });
});

describe("saliency baselines against the PyTorch reference", () => {
  it("should generate the same RISE masks as the Python reference when given the same seed", () => {
    const { n, s, p1, seed, masksFile, masksShape } = reference.rise;
    const masks = generateRiseMasks({ height: 128, width: 128, n, s, p1, seed });
    const count = masksShape[0]!;
    const diff = maxAbsDiff(masks.subarray(0, count * 128 * 128), readFloat32(`reference/${masksFile}`));
    assert.ok(diff <= 1e-6, `max |Δ| = ${diff}`);
  });

  it("should equal the reference RISE saliency within 1e-4 when run on the tiny classifier", async () => {
    const { n, s, p1, seed, file } = reference.rise;
    const cache = new RiseMaskCache();
    const rise = new RiseMethod({ engine, classifierKey: "tiny-classifier", params: { n, s, p1, seed }, batchSize: 40, maskCache: cache });
    const [out] = await rise.run(await tinyMethodInput(engine, [0]));
    const diff = maxAbsDiff(out!.map, readFloat32(`reference/${file}`));
    assert.ok(diff <= 1e-4, `max |Δ| = ${diff}`);
    assert.ok(out!.mask.data.some((v) => v === 1), "some pixel is salient");
    await rise.run(await tinyMethodInput(engine, [1]));
    assert.equal(cache.generated, 1, "masks are generated once and reused");
  });

  it("should equal the reference Score-CAM map within 1e-4 when run on the tiny classifier", async () => {
    const [out] = await new ScoreCamMethod({ engine, classifierKey: "tiny-classifier", batchSize: 3 }).run(await tinyMethodInput(engine, [0]));
    const diff = maxAbsDiff(out!.map, readFloat32(`reference/${reference.scoreCam.file}`));
    assert.ok(diff <= 1e-4, `max |Δ| = ${diff}`);
  });

  it("should equal the torch.autograd LayerCAM map within 1e-4 when run on the tiny classifier", async () => {
    const [out] = await new LayerCamMethod({ engine, classifierKey: "tiny-classifier" }).run(await tinyMethodInput(engine, [0]));
    const ref = readFloat32(`reference/${reference.layerCam.file}`);
    const diff = maxAbsDiff(out!.map, ref);
    assert.ok(diff <= 1e-4, `max |Δ| = ${diff}`);
    const salient = out!.mask.data.reduce((s, v) => s + v, 0);
    assert.equal(salient, ref.reduce((s, v) => s + (v > Math.fround(0.975) ? 1 : 0), 0));
  });
});
