import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { groundTruthToModelSize } from "../../../imaging/preprocess/ground-truth-to-model-size.ts";

// 6 × 6 disc-like mask; references: (torch bilinear, align_corners=False) >= 0.5.
const GT = {
  width: 6,
  height: 6,
  data: Uint8Array.from([
    0, 0, 0, 1, 0, 0, 0, 0, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0,
  ]),
};

describe("groundTruthToModelSize", () => {
  it("should equal torch bilinear >= 0.5 when halving (ties at exactly 0.5 count as 1)", () => {
    assert.deepEqual(Array.from(groundTruthToModelSize(GT, 3, 3).data), [0, 1, 0, 0, 1, 1, 0, 0, 0]);
  });

  it("should equal torch bilinear >= 0.5 when resizing to a non-integer ratio", () => {
    assert.deepEqual(
      Array.from(groundTruthToModelSize(GT, 4, 5).data),
      [0, 0, 1, 0, 0, 0, 1, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0],
    );
  });

  it("should equal torch bilinear >= 0.5 when upsampling", () => {
    // prettier-ignore
    const expected = [
      0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 1, 1, 1, 1, 0, 0, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0,
      0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0, 0, 1, 1, 1, 1, 1, 0, 0,
      0, 0, 0, 0, 0, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    ];
    assert.deepEqual(Array.from(groundTruthToModelSize(GT, 9, 10).data), expected);
  });

  it("should treat any nonzero label as target when the mask holds label 2", () => {
    const out = groundTruthToModelSize({ width: 2, height: 2, data: Uint8Array.from([2, 2, 2, 2]) }, 1, 1);
    assert.deepEqual(Array.from(out.data), [1]);
  });
});
