import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { renderMaskOverlayPng } from "../../../imaging/render/mask-overlay-png.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "./mask-fixture.ts";

function pixel(png: PNG, index: number): number[] {
  return Array.from(png.data.subarray(4 * index, 4 * index + 3));
}

describe("renderMaskOverlayPng", () => {
  // 4 × 1 slice: -1000 HU (black), 40 HU (mid grey in [-160, 240]), 240 HU (white), 40 HU.
  const slice = { width: 4, height: 1, data: Int16Array.from([-1000, 40, 240, 40]) };

  it("should draw the windowed grey slice when no mask is given", () => {
    const png = PNG.sync.read(Buffer.from(renderMaskOverlayPng({ slice, windowHU: [-160, 240] })));
    assert.equal(png.width, 4);
    assert.equal(png.height, 1);
    assert.deepEqual([pixel(png, 0), pixel(png, 1), pixel(png, 2)], [[0, 0, 0], [128, 128, 128], [255, 255, 255]]);
  });

  it("should colour TP green, FP red, FN yellow and leave TN grey when ground truth is given", () => {
    const bytes = renderMaskOverlayPng({
      slice: { width: 4, height: 1, data: new Int16Array(4).fill(-1000) },
      windowHU: [-160, 240],
      mask: maskFromRows(["##.."]),
      groundTruth: maskFromRows(["#.#."]),
      alpha: 1,
    });
    const png = PNG.sync.read(Buffer.from(bytes));
    assert.deepEqual(
      [0, 1, 2, 3].map((p) => pixel(png, p)),
      [[0, 255, 0], [255, 0, 0], [255, 255, 0], [0, 0, 0]],
    );
  });

  it("should blend the mask colour with the grey value when alpha is 0.5", () => {
    const png = PNG.sync.read(
      Buffer.from(renderMaskOverlayPng({ slice, windowHU: [-160, 240], mask: maskFromRows([".#.."]) })),
    );
    assert.deepEqual(pixel(png, 1), [64, 164, 192]);
    assert.deepEqual(pixel(png, 3), [128, 128, 128]);
  });

  it("should throw INVALID_ARGUMENT when the mask size differs from the slice", () => {
    assert.throws(
      () => renderMaskOverlayPng({ slice, windowHU: [-160, 240], mask: maskFromRows(["##"]) }),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});
