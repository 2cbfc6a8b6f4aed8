import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { mapToNativeMask } from "../../../imaging/mask/map-to-native-mask.ts";
import { maskToNative } from "../../../imaging/preprocess/mask-to-native.ts";
import { thresholdMap } from "../../../imaging/mask/threshold-map.ts";
import { resizeBilinear } from "../../../imaging/preprocess/bilinear-resize.ts";

// 3 × 2 map; reference: torch F.interpolate(map, size=(4, 6), mode="bilinear", align_corners=False) > 0.25.
const MAP = { width: 3, height: 2, data: Float32Array.from([0.0, 0.2, 0.1, 0.3, 0.9, 0.26]) };
const TORCH_4x6 = [0, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 1, 1, 1, 1, 0, 1, 1, 1, 1, 1, 1];

describe("mapToNativeMask", () => {
  it("should equal torch's bilinear upsampling followed by a strict threshold", () => {
    const out = mapToNativeMask(MAP, 4, 6, 0.25);
    assert.equal(out.width, 6);
    assert.equal(out.height, 4);
    assert.deepEqual(Array.from(out.data), TORCH_4x6);
  });

  it("should place the outline between model pixels where copying pixels cannot", () => {
    const copied = maskToNative(thresholdMap(MAP.data, 3, 2, 0.25), 4, 6);
    // Model pixel (0, 1) is 0.2 < 0.25, so its 2×2 native block is empty when copied; the interpolated
    // map is above the threshold on its lower-right native pixel (next to the 0.9 below it).
    assert.equal(copied.data[1 * 6 + 3], 0);
    assert.equal(mapToNativeMask(MAP, 4, 6, 0.25).data[1 * 6 + 3], 1);
  });

  it("should keep the model-size mask when the native grid is the model grid", () => {
    assert.deepEqual(Array.from(mapToNativeMask(MAP, 2, 3, 0.25).data), Array.from(thresholdMap(MAP.data, 3, 2, 0.25).data));
  });

  it("should throw INVALID_ARGUMENT when the threshold is not finite", () => {
    assert.throws(() => mapToNativeMask(MAP, 4, 6, Number.NaN), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});

describe("mapToNativeMask on a window", () => {
  it("should equal thresholding the whole bilinear upsampling for random maps and sizes", () => {
    let seed = 12345;
    const rand = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    for (let trial = 0; trial < 60; trial++) {
      const w = 3 + Math.floor(rand() * 20);
      const h = 3 + Math.floor(rand() * 20);
      const data = new Float32Array(w * h);
      // Mostly background with a few bright spots, some touching the borders, some exactly at the threshold.
      for (let k = 0; k < 1 + Math.floor(rand() * 3); k++) data[Math.floor(rand() * w * h)] = rand() < 0.2 ? 0.25 : 0.2 + rand() * 0.8;
      for (let p = 0; p < data.length; p++) if (data[p] === 0) data[p] = rand() * 0.2;
      const H = h + Math.floor(rand() * 3 * h);
      const W = w + Math.floor(rand() * 3 * w);
      const map = { width: w, height: h, data };
      const whole = thresholdMap(resizeBilinear(map, H, W).data, W, H, 0.25);
      assert.deepEqual(Array.from(mapToNativeMask(map, H, W, 0.25).data), Array.from(whole.data), `trial ${trial} ${w}x${h} → ${W}x${H}`);
    }
  });

  it("should return an empty mask when no value comes near the threshold", () => {
    const out = mapToNativeMask({ width: 2, height: 2, data: Float32Array.from([0, 0.1, 0.2, 0.249]) }, 4, 4, 0.25);
    assert.equal(out.data.reduce((s, v) => s + v, 0), 0);
  });
});
