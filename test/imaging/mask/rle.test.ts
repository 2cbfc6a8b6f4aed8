import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { decodeRle, encodeRle } from "../../../imaging/mask/rle.ts";
import { isImagingError, type ImagingErrorCode } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "./mask-fixture.ts";

describe("encodeRle / decodeRle", () => {
  it("should encode an empty mask as a single background run when nothing is set", () => {
    assert.equal(encodeRle({ width: 4, height: 3, data: new Uint8Array(12) }), "4x3:12");
  });

  it("should start with a zero background run when the mask is full", () => {
    assert.equal(encodeRle({ width: 4, height: 3, data: new Uint8Array(12).fill(1) }), "4x3:0,12");
  });

  it("should read runs in row-major order across row ends when the mask has several rows", () => {
    const mask = maskFromRows(["..##", "#...", "...#"]);
    assert.equal(encodeRle(mask), "4x3:2,3,6,1");
  });

  it("should round-trip masks exactly when decoding what was encoded", () => {
    const masks = [
      maskFromRows(["#"]),
      maskFromRows(["."]),
      maskFromRows(["#.#.#", ".#.#.", "#####"]),
      { width: 7, height: 5, data: Uint8Array.from({ length: 35 }, (_, p) => ((p * 7919) % 13 < 5 ? 1 : 0)) },
    ];
    for (const mask of masks) {
      const decoded = decodeRle(encodeRle(mask));
      assert.equal(decoded.width, mask.width);
      assert.equal(decoded.height, mask.height);
      assert.deepEqual(Array.from(decoded.data), Array.from(mask.data));
    }
  });

  it("should decode the documented example when given a hand-written string", () => {
    assert.deepEqual(Array.from(decodeRle("4x1:1,2,1").data), [0, 1, 1, 0]);
  });

  const corrupt: [string, string, ImagingErrorCode][] = [
    ["the header is missing", "12", "UNSUPPORTED_FORMAT"],
    ["the width is zero", "0x3:0", "UNSUPPORTED_FORMAT"],
    ["there are no runs", "4x3:", "UNSUPPORTED_FORMAT"],
    ["a run is negative", "4x3:-1,13", "UNSUPPORTED_FORMAT"],
    ["a run has a leading zero", "4x3:012", "UNSUPPORTED_FORMAT"],
    ["a middle run is zero", "4x3:5,0,7", "UNSUPPORTED_FORMAT"],
    ["there is a trailing comma", "4x3:12,", "UNSUPPORTED_FORMAT"],
    ["there is whitespace", "4x3: 12", "UNSUPPORTED_FORMAT"],
    ["a run is fractional", "4x3:1.5,10", "UNSUPPORTED_FORMAT"],
    ["the runs stop short", "4x3:5,3", "IMAGING_TRUNCATED"],
    ["the runs overflow the mask", "4x3:5,8", "IMAGING_INCONSISTENT"],
    ["a run is absurdly long", "4x3:99999999999999999999", "IMAGING_INCONSISTENT"],
    ["the size is huge", "100000x100000:10000000000", "IMAGING_TOO_LARGE"],
  ];
  for (const [condition, text, code] of corrupt) {
    it(`should throw ${code} when ${condition}`, () => {
      assert.throws(() => decodeRle(text), (e) => isImagingError(e, code));
    });
  }

  it("should throw INVALID_ARGUMENT when encoding a mask with a value other than 0/1", () => {
    assert.throws(
      () => encodeRle({ width: 2, height: 1, data: Uint8Array.from([0, 2]) }),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });

  it("should throw UNSUPPORTED_FORMAT when given a non-string", () => {
    assert.throws(() => decodeRle(42 as unknown as string), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
  });
});
