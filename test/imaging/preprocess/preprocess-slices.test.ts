import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { preprocessSlices } from "../../../imaging/preprocess/preprocess-slices.ts";
import { parsePreprocessSpec } from "../../../imaging/preprocess/preprocess-spec.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { fnv1a } from "./fnv1a.ts";

// 5 × 7 HU slice; reference = torch: clamp(-160, 340) → [-1, 1] → interpolate((3, 4), bilinear, align_corners=False).
const HU = [
  -400, 200, -50, -300, 300, 50, -200, 250, 0, -250, 350, 100, -150, -400, 50, -200, 400, 150, -100, -350, 250, -150,
  -400, 200, -50, -300, 300, 50, -350, 250, 0, -250, 350, 100, -150,
];
const TORCH_PIPELINE_3x4 = [
  -0.218333364, -0.660000026, 0.460000008, -0.785000026, -0.475000024, 0.904999971, -0.63499999, 0.0249999762,
  -0.581666708, -0.188333213, 0.184999734, -0.318333209,
];
const SPEC = parsePreprocessSpec({ windowHU: [-160, 340], size: [3, 4], resize: "bilinear-half-pixel" });

describe("preprocessSlices", () => {
  it("should match the torch pipeline within 1e-6 when given an Int16 HU slice", () => {
    const batch = preprocessSlices([{ width: 7, height: 5, data: Int16Array.from(HU) }], SPEC);
    assert.deepEqual(batch.shape, [1, 1, 3, 4]);
    for (let p = 0; p < 12; p++) assert.ok(Math.abs(batch.data[p]! - TORCH_PIPELINE_3x4[p]!) <= 1e-6, `index ${p}`);
  });

  it("should be bit-identical to training's preprocess_hu when the window is fractional and the size is 128 or 256", () => {
    // 37 × 23 slice, HU = −1000 + (r·131 + c·71) mod 1500; reference: training/coinseg_train/data.py
    // preprocess_hu(hu, (−171.3, 412.9), size) with torch 2.13, hashed (FNV-1a over float32 bits).
    const hu = new Int16Array(37 * 23);
    for (let r = 0; r < 37; r++) for (let c = 0; c < 23; c++) hu[r * 23 + c] = -1000 + ((r * 131 + c * 71) % 1500);
    for (const [size, hash] of [
      [128, 0x1ae11adb],
      [256, 0x693fabc0],
    ] as const) {
      const spec = parsePreprocessSpec({ windowHU: [-171.3, 412.9], size: [size, size] });
      assert.equal(fnv1a(preprocessSlices([{ width: 23, height: 37, data: hu }], spec).data), hash, `size ${size}`);
    }
  });

  it("should stack slices of different native sizes in NCHW order when batching", () => {
    const flat = { width: 2, height: 2, data: new Float32Array([340, 340, 340, 340]) };
    const batch = preprocessSlices([{ width: 7, height: 5, data: Float32Array.from(HU) }, flat], SPEC);
    assert.deepEqual(batch.shape, [2, 1, 3, 4]);
    assert.equal(batch.data.length, 24);
    assert.ok(Math.abs(batch.data[0]! - TORCH_PIPELINE_3x4[0]!) <= 1e-6);
    assert.deepEqual(Array.from(batch.data.subarray(12)), new Array(12).fill(1));
  });

  it("should throw INVALID_ARGUMENT when the list of slices is empty", () => {
    assert.throws(() => preprocessSlices([], SPEC), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });

  it("should throw INVALID_ARGUMENT when a slice contains NaN", () => {
    const bad = { width: 2, height: 1, data: new Float32Array([0, Number.NaN]) };
    assert.throws(() => preprocessSlices([bad], SPEC), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });

  it("should throw INVALID_ARGUMENT when a slice's data does not match its size", () => {
    const bad = { width: 3, height: 3, data: new Int16Array(4) };
    assert.throws(() => preprocessSlices([bad], SPEC), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});

describe("parsePreprocessSpec", () => {
  it("should default resize to bilinear-half-pixel when it is omitted", () => {
    assert.deepEqual(parsePreprocessSpec({ windowHU: [-200, 500], size: [256, 256] }), {
      windowHU: [-200, 500],
      size: [256, 256],
      resize: "bilinear-half-pixel",
    });
  });

  for (const [name, value] of [
    ["the spec is null", null],
    ["the window is reversed", { windowHU: [340, -160], size: [8, 8] }],
    ["the window is not finite", { windowHU: [-160, Infinity], size: [8, 8] }],
    ["the size is missing", { windowHU: [-160, 340] }],
    ["the size is fractional", { windowHU: [-160, 340], size: [8.5, 8] }],
    ["the resize rule is unknown", { windowHU: [-160, 340], size: [8, 8], resize: "bicubic" }],
  ] as const) {
    it(`should throw INVALID_ARGUMENT when ${name}`, () => {
      assert.throws(() => parsePreprocessSpec(value), (e) => isImagingError(e, "INVALID_ARGUMENT"));
    });
  }
});
