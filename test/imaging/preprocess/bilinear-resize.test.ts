import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { resizeBilinear } from "../../../imaging/preprocess/bilinear-resize.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { fnv1a } from "./fnv1a.ts";

// 5 × 7 input, value ((r*7 + c*3) % 11) / 5 − 1. References from python3 + torch 2.13:
// F.interpolate(x, size, mode="bilinear", align_corners=False, antialias=False).
function oddInput(): { width: number; height: number; data: Float32Array } {
  const data = new Float32Array(35);
  for (let r = 0; r < 5; r++) for (let c = 0; c < 7; c++) data[r * 7 + c] = ((r * 7 + c * 3) % 11) / 5 - 1;
  return { width: 7, height: 5, data };
}

const TORCH_3x4 = [
  -0.308333397, 0.00833335146, -0.225000039, -0.0916666463, -0.174999997, 0.600000024, -0.275000006, 0.774999976,
  0.416666657, -0.458333194, -0.0500001684, -0.00833335053,
];
const TORCH_8x11 = [
  -1.0, -0.727272749, -0.345454603, 0.0363636538, 0.418181777, 0.800000012, -0.21818164, -0.636363804, -0.25454542,
  0.12727271, 0.400000006, -0.387499988, -0.114772737, 0.179545477, -0.051136367, 0.0681817606, 0.450000018,
  0.0443182774, -0.286363542, -0.517045498, -0.222727299, 0.0500000045, 0.349999994, 0.622727275, 0.817045569,
  -0.113636397, -0.344318241, -0.0500000007, 0.331818104, 0.151136756, -0.779545605, -0.58522737, -0.3125,
  -0.150000006, 0.122727267, 0.44204545, 0.386363626, 0.0306818932, -0.550000012, -0.168181896, 0.026136389,
  -0.029545458, 0.289772689, 0.5625, 0.037499994, -0.00227273442, 0.00454539852, 0.386363626, 0.218181908,
  -0.362500012, -0.418181807, -0.28636378, 0.0954546034, 0.477272689, 0.75, 0.912500024, 0.247727275, -0.495454609,
  -0.113636367, 0.218181789, 0.512500048, -0.418181598, -0.78636378, -0.404545397, -0.0227272883, 0.25, 0.550000012,
  0.385227293, 0.12954551, -0.276136398, -0.231818259, 0.150000021, -0.0806817636, -0.0488637835, 0.332954586,
  0.0397727452, -0.25000003, 0.200000003, 0.472727269, 0.654545605, -0.363636434, -0.581818223, -0.200000003,
  0.181818113, 0.563636243, 0.945454597, 0.127272785, -0.600000024,
];
// Mixed: fewer rows, more columns.
const TORCH_2x9 = [
  0.0500000045, 0.449999988, 0.183333352, -0.266666621, 0.200000003, 0.238888904, -0.333333611, -0.599999905,
  -0.200000003, 0.800000012, 0.0999999791, -0.227777794, -0.0666665956, 0.400000006, -0.416666806, -0.316666514,
  -0.0333333313, -2.89745117e-10,
];

function assertClose(actual: ArrayLike<number>, expected: readonly number[], tol: number): void {
  assert.equal(actual.length, expected.length);
  for (let p = 0; p < expected.length; p++) {
    assert.ok(Math.abs(actual[p]! - expected[p]!) <= tol, `index ${p}: ${actual[p]} vs ${expected[p]}`);
  }
}

describe("resizeBilinear", () => {
  it("should equal torch bilinear (align_corners=False) within 1e-6 when downsampling an odd-sized image", () => {
    const out = resizeBilinear(oddInput(), 3, 4);
    assert.equal(out.width, 4);
    assert.equal(out.height, 3);
    assertClose(out.data, TORCH_3x4, 1e-6);
  });

  it("should equal torch bilinear within 1e-6 when upsampling an odd-sized image", () => {
    assertClose(resizeBilinear(oddInput(), 8, 11).data, TORCH_8x11, 1e-6);
  });

  it("should equal torch bilinear within 1e-6 when one axis shrinks and the other grows", () => {
    assertClose(resizeBilinear(oddInput(), 2, 9).data, TORCH_2x9, 1e-6);
  });

  it("should be bit-identical to torch's float32 kernel when the output is model-sized (height + width > 128)", () => {
    // 13 × 17 input with the same formula; torch outputs hashed as FNV-1a over their float32 bit patterns.
    const data = new Float32Array(13 * 17);
    for (let r = 0; r < 13; r++) for (let c = 0; c < 17; c++) data[r * 17 + c] = ((r * 7 + c * 3) % 11) / 5 - 1;
    const expected: [number, number, number][] = [
      [120, 9, 0x7eb54c88],
      [256, 256, 0x8685e608],
      [7, 200, 0x49975856],
    ];
    for (const [h, w, hash] of expected) {
      assert.equal(fnv1a(resizeBilinear({ width: 17, height: 13, data }, h, w).data), hash, `${h}×${w}`);
    }
  });

  it("should return the input values when the size is unchanged", () => {
    const input = oddInput();
    assert.deepEqual(Array.from(resizeBilinear(input, 5, 7).data), Array.from(input.data));
  });

  it("should average 2×2 blocks without antialiasing when halving a 4×4 image", () => {
    const data = Float32Array.from({ length: 16 }, (_, p) => p);
    assert.deepEqual(Array.from(resizeBilinear({ width: 4, height: 4, data }, 2, 2).data), [2.5, 4.5, 10.5, 12.5]);
  });

  it("should write at the offset of a provided buffer when filling a batch", () => {
    const out = new Float32Array(2 + 12).fill(9);
    resizeBilinear(oddInput(), 3, 4, out, 2);
    assert.deepEqual(Array.from(out.subarray(0, 2)), [9, 9]);
    assertClose(out.subarray(2), TORCH_3x4, 1e-6);
  });

  it("should throw INVALID_ARGUMENT when data length and size disagree", () => {
    assert.throws(
      () => resizeBilinear({ width: 3, height: 3, data: new Float32Array(8) }, 2, 2),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });

  it("should throw INVALID_ARGUMENT when the output size is zero or fractional", () => {
    assert.throws(() => resizeBilinear(oddInput(), 0, 4), (e) => isImagingError(e, "INVALID_ARGUMENT"));
    assert.throws(() => resizeBilinear(oddInput(), 2.5, 4), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });

  it("should throw IMAGING_TOO_LARGE when the output size is huge", () => {
    assert.throws(() => resizeBilinear(oddInput(), 100000, 100000), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
  });

  it("should throw INVALID_ARGUMENT when the output buffer is too short", () => {
    assert.throws(
      () => resizeBilinear(oddInput(), 3, 4, new Float32Array(12), 1),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});
