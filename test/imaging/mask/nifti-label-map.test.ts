import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { writeNiftiLabelMap } from "../../../imaging/mask/nifti-label-map.ts";
import { decodeNifti } from "../../../imaging/nifti/nifti-decoder.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "./mask-fixture.ts";

const REFERENCE = {
  dimsIJK: [4, 3, 3] as const,
  spacingMm: [0.8, 0.7, 2.5] as const,
  originLPS: [-100, -120, 30] as const,
  directionLPS: [
    [1, 0, 0],
    [0, 1, 0],
    [0, 0, 1],
  ] as const,
};

describe("writeNiftiLabelMap", () => {
  it("should place each slice's mask at its k with the source geometry when read back", () => {
    const bytes = writeNiftiLabelMap(REFERENCE, [{ sliceIndex: 2, mask: maskFromRows(["#...", ".##.", "...#"]) }], {
      label: 2,
    });
    assert.deepEqual(Array.from(bytes.subarray(0, 2)), [0x1f, 0x8b]);
    const volume = decodeNifti(bytes);
    assert.equal(volume.unit, "label");
    assert.deepEqual(volume.dimsIJK, [4, 3, 3]);
    volume.spacingMm.forEach((s, n) => assert.ok(Math.abs(s - REFERENCE.spacingMm[n]!) < 1e-5));
    volume.originLPS.forEach((o, n) => assert.ok(Math.abs(o - REFERENCE.originLPS[n]!) < 1e-4));
    const expected = new Array(36).fill(0);
    for (const p of [0, 5, 6, 11]) expected[24 + p] = 2;
    assert.deepEqual(Array.from(volume.data), expected);
  });

  it("should throw INVALID_ARGUMENT when a mask is not the native slice size", () => {
    assert.throws(
      () => writeNiftiLabelMap(REFERENCE, [{ sliceIndex: 0, mask: maskFromRows(["##", "##"]) }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });

  it("should throw INVALID_ARGUMENT when a slice index is outside the volume", () => {
    assert.throws(
      () => writeNiftiLabelMap(REFERENCE, [{ sliceIndex: 3, mask: maskFromRows(["....", "....", "...."]) }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });
});
