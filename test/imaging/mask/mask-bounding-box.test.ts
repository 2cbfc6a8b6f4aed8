import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { maskBoundingBox } from "../../../imaging/mask/mask-bounding-box.ts";
import { maskArea } from "../../../imaging/mask/mask-area.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "./mask-fixture.ts";

describe("maskBoundingBox and maskArea", () => {
  it("should return inclusive bounds and the pixel count when the foreground is scattered", () => {
    const mask = maskFromRows(["......", "..#...", "....#.", ".#....", "......"]);
    assert.deepEqual(maskBoundingBox(mask), { rowMin: 1, rowMax: 3, colMin: 1, colMax: 4 });
    assert.equal(maskArea(mask), 3);
  });

  it("should return null and zero when the mask is empty", () => {
    const mask = maskFromRows(["...", "..."]);
    assert.equal(maskBoundingBox(mask), null);
    assert.equal(maskArea(mask), 0);
  });

  it("should span the whole image when the mask is full", () => {
    const mask = maskFromRows(["###", "###"]);
    assert.deepEqual(maskBoundingBox(mask), { rowMin: 0, rowMax: 1, colMin: 0, colMax: 2 });
    assert.equal(maskArea(mask), 6);
  });

  it("should throw INVALID_ARGUMENT when the data length does not match the size", () => {
    assert.throws(() => maskArea({ width: 3, height: 3, data: new Uint8Array(8) }), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});
