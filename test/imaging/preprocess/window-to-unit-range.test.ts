import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { windowToUnitRange } from "../../../imaging/preprocess/window-to-unit-range.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";

describe("windowToUnitRange", () => {
  it("should clip to the window and map low to -1 and high to +1 when values straddle the window", () => {
    const out = windowToUnitRange(new Int16Array([-1000, -160, 90, 340, 3000, -35]), [-160, 340]);
    assert.deepEqual(Array.from(out), [-1, -1, 0, 1, 1, -0.5]);
  });

  it("should round like torch's float32 ops when the window is fractional", () => {
    // torch: ((t.clamp(-171.3, 412.9) - (-171.3)) / (412.9 - (-171.3)) * 2.0 - 1.0) on float32.
    const out = windowToUnitRange(new Int16Array([-1000, -171, 0, 37, 412, 3000]), [-171.3, 412.9]);
    const torch = [-1, -0.998972952, -0.413556993, -0.286888063, 0.996918797, 1];
    torch.forEach((v, p) => assert.equal(out[p], Math.fround(v), `index ${p}`));
  });

  it("should throw INVALID_ARGUMENT when the window is empty", () => {
    assert.throws(() => windowToUnitRange([0], [100, 100]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});
