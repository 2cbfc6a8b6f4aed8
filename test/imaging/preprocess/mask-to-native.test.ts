import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { maskToNative } from "../../../imaging/preprocess/mask-to-native.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";

// 3 × 4 mask, 1 where (r*3 + c) % 4 == 0. References: torch F.interpolate(mode="nearest-exact").
const MASK = { width: 4, height: 3, data: Uint8Array.from([1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0]) };

describe("maskToNative", () => {
  it("should equal torch nearest-exact when upsampling to an odd native size", () => {
    const out = maskToNative(MASK, 5, 7);
    assert.equal(out.width, 7);
    assert.equal(out.height, 5);
    assert.deepEqual(
      Array.from(out.data),
      [1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 1, 1, 0, 0],
    );
  });

  it("should equal torch nearest-exact when downsampling", () => {
    assert.deepEqual(Array.from(maskToNative(MASK, 2, 3).data), [1, 0, 0, 0, 1, 0]);
  });

  it("should replicate each pixel into a 2×2 block when doubling the size", () => {
    const out = maskToNative({ width: 2, height: 1, data: Uint8Array.from([0, 1]) }, 2, 4);
    assert.deepEqual(Array.from(out.data), [0, 0, 1, 1, 0, 0, 1, 1]);
  });

  it("should throw INVALID_ARGUMENT when the native size is not positive", () => {
    assert.throws(() => maskToNative(MASK, 0, 7), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});
