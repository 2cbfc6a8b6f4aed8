import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { upsampleFeatureMaps } from "../../../imaging/preprocess/upsample-feature-maps.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";

// 2 × 3 × 3 maps, channel k value (k+1)·((r*3 + c) % 5) − 2; reference: torch bilinear to (4, 5), align_corners=False.
const TORCH_2x4x5 = [
  -2.0, -1.5999999, -1.0, -0.399999857, 0.0, -0.125, 0.275000006, 0.875, -0.400000304, -1.25, 0.25, 0.649999976, 1.25,
  -0.025000304, -0.875, -1.0, -0.599999964, 0.0, 0.600000143, 1.0, -2.0, -1.19999993, 0.0, 1.20000029, 2.0, 1.75,
  2.55000019, 3.75, 1.19999933, -0.5, 2.5, 3.29999995, 4.5, 1.94999945, 0.25, 0.0, 0.800000072, 2.0, 3.20000029, 4.0,
];

describe("upsampleFeatureMaps", () => {
  it("should equal torch bilinear per channel within 1e-6 when upsampling 3×3 maps to 4×5", () => {
    const maps = new Float32Array(18);
    for (let k = 0; k < 2; k++)
      for (let r = 0; r < 3; r++) for (let c = 0; c < 3; c++) maps[k * 9 + r * 3 + c] = (k + 1) * ((r * 3 + c) % 5) - 2;
    const out = upsampleFeatureMaps(maps, 2, 3, 3, 4, 5);
    assert.equal(out.length, 40);
    for (let p = 0; p < 40; p++) assert.ok(Math.abs(out[p]! - TORCH_2x4x5[p]!) <= 1e-6, `index ${p}`);
  });

  it("should throw INVALID_ARGUMENT when the data length does not match C·h·w", () => {
    assert.throws(() => upsampleFeatureMaps(new Float32Array(17), 2, 3, 3, 4, 5), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});
