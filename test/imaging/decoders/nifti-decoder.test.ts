import { test } from "node:test";
import assert from "node:assert/strict";
import { gzipSync } from "node:zlib";
import { writeNifti } from "../../../imaging/nifti/nifti-writer.ts";
import { decodeNifti } from "../../../imaging/nifti/nifti-decoder.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import type { Volume } from "../../../imaging/volume.ts";
import { indexVolume, maxAbsDiff, obliqueDirection } from "./fixtures.ts";
import { buildNifti2 } from "./nifti2-fixture.ts";

function assertSameGeometry(out: Volume, expected: Volume, tol = 1e-4): void {
  assert.deepEqual(out.dimsIJK, expected.dimsIJK);
  assert.ok(maxAbsDiff(out.spacingMm, expected.spacingMm) < tol, `spacing ${out.spacingMm}`);
  assert.ok(maxAbsDiff(out.originLPS, expected.originLPS) < tol, `origin ${out.originLPS}`);
  for (let r = 0; r < 3; r++) assert.ok(maxAbsDiff(out.directionLPS[r]!, expected.directionLPS[r]!) < tol, `direction ${r}: ${out.directionLPS[r]}`);
}

for (const gzip of [false, true]) {
  test(`should read back voxels and LPS geometry when nifti-writer writes ${gzip ? ".nii.gz" : ".nii"}`, () => {
    const volume = indexVolume();
    const out = decodeNifti(writeNifti(volume, { gzip }));
    assert.ok(out.data instanceof Int16Array);
    assert.deepEqual(Array.from(out.data), Array.from(volume.data));
    assertSameGeometry(out, volume);
    assert.equal(out.unit, "HU");
    assert.equal(out.meta?.format, "NIfTI-1");
  });
}

test("should give identity LPS directions when the affine is diag(-sx, -sy, sz) as in DATASET.md", () => {
  const out = decodeNifti(writeNifti(indexVolume([4, 4, 2], { spacingMm: [0.75, 0.75, 2.5], originLPS: [1, 2, 3] })));
  assert.deepEqual(out.directionLPS.map((r) => r.map((x) => Math.abs(x) < 1e-12 ? 0 : x)), [[1, 0, 0], [0, 1, 0], [0, 0, 1]]);
  assert.deepEqual(out.spacingMm, [0.75, 0.75, 2.5]);
});

test("should read the same oblique geometry from the qform as from the sform", () => {
  const volume = indexVolume([3, 4, 5], { directionLPS: obliqueDirection(), spacingMm: [0.6, 0.9, 1.7], originLPS: [-5, 7, 11] });
  const bytes = writeNifti(volume, { gzip: false });
  assertSameGeometry(decodeNifti(bytes), volume);
  const qformOnly = bytes.slice();
  new DataView(qformOnly.buffer).setInt16(254, 0, true); // sform_code = 0
  assertSameGeometry(decodeNifti(qformOnly), volume);
});

test("should read a left-handed (k towards feet) geometry from the qform with qfac = -1", () => {
  const volume = indexVolume([3, 3, 3], { directionLPS: [[1, 0, 0], [0, 1, 0], [0, 0, -1]] });
  const bytes = writeNifti(volume, { gzip: false });
  new DataView(bytes.buffer).setInt16(254, 0, true);
  assertSameGeometry(decodeNifti(bytes), volume);
});

test("should apply scl_slope and scl_inter when they are set", () => {
  const volume = indexVolume();
  const bytes = writeNifti(volume, { gzip: false });
  const v = new DataView(bytes.buffer);
  v.setFloat32(112, 0.5, true);
  v.setFloat32(116, -10, true);
  const out = decodeNifti(bytes);
  assert.ok(out.data instanceof Float32Array);
  assert.ok(maxAbsDiff(out.data, Array.from(volume.data, (x) => x * 0.5 - 10)) < 1e-6);
});

test("should ignore scaling when scl_slope is 0", () => {
  const volume = indexVolume();
  const bytes = writeNifti(volume, { gzip: false });
  new DataView(bytes.buffer).setFloat32(112, 0, true);
  assert.deepEqual(Array.from(decodeNifti(bytes).data), Array.from(volume.data));
});

test("should return a uint8 label volume when the intent is NIFTI_INTENT_LABEL", () => {
  const labels = { ...indexVolume([4, 3, 2]), unit: "label" as const, data: Uint8Array.from({ length: 24 }, (_, n) => n % 3) };
  const out = decodeNifti(writeNifti(labels, { intentCode: 1002 }));
  assert.ok(out.data instanceof Uint8Array);
  assert.equal(out.unit, "label");
  assert.deepEqual(Array.from(out.data), Array.from(labels.data));
});

for (const littleEndian of [true, false]) {
  test(`should decode float32 voxels and sform geometry when the file is NIfTI-2 ${littleEndian ? "little" : "big"} endian`, () => {
    const values = Float32Array.from({ length: 2 * 3 * 2 }, (_, n) => n * 1.5 - 4);
    const data = new Uint8Array(values.length * 4);
    values.forEach((x, n) => new DataView(data.buffer).setFloat32(n * 4, x, littleEndian));
    const bytes = buildNifti2({
      dims: [3, 2, 3, 2, 1, 1, 1, 1],
      datatype: 16,
      bitpix: 32,
      data,
      affineRAS: [[-0.5, 0, 0, 10], [0, -0.8, 0, 20], [0, 0, 3, -30]],
      littleEndian,
    });
    const out = decodeNifti(bytes);
    assert.equal(out.meta?.format, "NIfTI-2");
    assert.deepEqual(out.dimsIJK, [2, 3, 2]);
    assert.deepEqual(Array.from(out.data), Array.from(values));
    assert.deepEqual(out.spacingMm, [0.5, 0.8, 3]);
    assert.deepEqual(out.originLPS, [-10, -20, -30]);
  });
}

test("should accept a 4D image when its 4th dimension is 1", () => {
  const bytes = buildNifti2({ dims: [4, 2, 2, 1, 1, 1, 1, 1], datatype: 2, bitpix: 8, data: Uint8Array.of(1, 2, 3, 4), affineRAS: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] });
  assert.deepEqual(Array.from(decodeNifti(bytes).data), [1, 2, 3, 4]);
});

test("should throw NIFTI_4D_UNSUPPORTED when the image has 2 time points", () => {
  const bytes = buildNifti2({ dims: [4, 2, 2, 1, 2, 1, 1, 1], datatype: 2, bitpix: 8, data: new Uint8Array(8), affineRAS: [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 1, 0]] });
  assert.throws(() => decodeNifti(bytes), (e) => isImagingError(e, "NIFTI_4D_UNSUPPORTED"));
});

test("should throw IMAGING_TRUNCATED when the voxel data is cut short", () => {
  const bytes = writeNifti(indexVolume(), { gzip: false });
  assert.throws(() => decodeNifti(bytes.subarray(0, bytes.length - 2)), (e) => isImagingError(e, "IMAGING_TRUNCATED"));
});

test("should throw IMAGING_TRUNCATED when the gzip stream is cut short", () => {
  const bytes = writeNifti(indexVolume(), { gzip: true });
  assert.throws(() => decodeNifti(bytes.subarray(0, bytes.length - 12)), (e) => isImagingError(e, "IMAGING_TRUNCATED"));
});

test("should throw IMAGING_TOO_LARGE when the gunzipped size exceeds maxBytes", () => {
  const bomb = gzipSync(new Uint8Array(1 << 20));
  assert.ok(bomb.length < 5000);
  assert.throws(() => decodeNifti(bomb, { limits: { maxBytes: 100_000 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
});

test("should throw IMAGING_TOO_LARGE when the voxel count exceeds maxVoxels", () => {
  assert.throws(() => decodeNifti(writeNifti(indexVolume()), { limits: { maxVoxels: 10 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
});

test("should throw IMAGING_INCONSISTENT when bitpix disagrees with the datatype", () => {
  const bytes = writeNifti(indexVolume(), { gzip: false });
  new DataView(bytes.buffer).setInt16(72, 8, true);
  assert.throws(() => decodeNifti(bytes), (e) => isImagingError(e, "IMAGING_INCONSISTENT"));
});

test("should throw UNSUPPORTED_FORMAT when the datatype is RGB", () => {
  const bytes = writeNifti(indexVolume(), { gzip: false });
  const v = new DataView(bytes.buffer);
  v.setInt16(70, 128, true);
  v.setInt16(72, 24, true);
  assert.throws(() => decodeNifti(bytes), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
});

test("should throw UNSUPPORTED_FORMAT when the bytes are not NIfTI", () => {
  assert.throws(() => decodeNifti(new Uint8Array(400)), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
});
