import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeRle, encodeRle, rleConfusionCounts } from "../../core/domain/rle.ts";

describe("rle", () => {
  it("should start with a zero-length background run when the first pixel is foreground", () => {
    assert.deepEqual(encodeRle([1, 1, 0, 0, 0, 1]), [0, 2, 3, 1]);
  });

  it("should encode an empty mask as one background run", () => {
    assert.deepEqual(encodeRle(new Uint8Array(9)), [9]);
  });

  it("should round-trip a pseudo-random mask", () => {
    const mask = new Uint8Array(257);
    let x = 7;
    for (let i = 0; i < mask.length; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      mask[i] = x % 3 === 0 ? 1 : 0;
    }
    assert.deepEqual(decodeRle(encodeRle(mask), mask.length), mask);
  });

  it("should throw RangeError when runs do not cover the pixel count", () => {
    assert.throws(() => decodeRle([3, 2], 6), RangeError);
    assert.throws(() => decodeRle([-1, 7], 6), RangeError);
  });

  it("should count TP, FP, FN and TN from runs as a pixel-by-pixel count does", () => {
    let x = 11;
    const random = (n: number, rate: number) => Uint8Array.from({ length: n }, () => ((x = (x * 1103515245 + 12345) % 2147483648) % 1000) < rate * 1000 ? 1 : 0);
    for (const [n, rateP, rateT] of [[1, 0.5, 0.5], [97, 0.3, 0.6], [4096, 0.05, 0.02], [500, 0, 0.4], [500, 1, 0]] as const) {
      const p = random(n, rateP);
      const t = random(n, rateT);
      const expected = { tp: 0, fp: 0, fn: 0, tn: 0 };
      for (let i = 0; i < n; i++) {
        if (p[i] && t[i]) expected.tp++;
        else if (p[i]) expected.fp++;
        else if (t[i]) expected.fn++;
        else expected.tn++;
      }
      assert.deepEqual(rleConfusionCounts(encodeRle(p), encodeRle(t), n), expected, `n ${n}`);
    }
  });

  it("should accept zero-length runs inside a run list and refuse lists that do not cover the grid", () => {
    assert.deepEqual(rleConfusionCounts([0, 2, 0, 1, 3], [3, 3], 6), { tp: 0, fp: 3, fn: 3, tn: 0 });
    assert.throws(() => rleConfusionCounts([6], [5], 6), RangeError);
    assert.throws(() => rleConfusionCounts([2, -1, 5], [6], 6), RangeError);
    assert.throws(() => rleConfusionCounts([2.5, 3.5], [6], 6), RangeError);
  });
});
