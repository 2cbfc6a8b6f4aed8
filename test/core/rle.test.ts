import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeRle, encodeRle } from "../../core/domain/rle.ts";

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
});
