import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { decodeVolume } from "../../../imaging/decode/decode-volume.ts";
import { detectVolumeFormat } from "../../../imaging/decode/detect-volume-format.ts";
import { writeDicomSeries } from "../../../imaging/dicom/dicom-series-writer.ts";
import { TRANSFER_SYNTAX } from "../../../imaging/dicom/transfer-syntax.ts";
import { writeNifti } from "../../../imaging/nifti/nifti-writer.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { indexVolume } from "./fixtures.ts";

function greyPng(): Uint8Array {
  const png = new PNG({ width: 3, height: 2, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  png.data = Buffer.from([1, 2, 3, 4, 5, 6]);
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}

test("should detect each format from its magic bytes when given DICOM, NIfTI, gzipped NIfTI and PNG", () => {
  const v = indexVolume();
  assert.equal(detectVolumeFormat(writeDicomSeries(v)[0]!), "dicom");
  assert.equal(detectVolumeFormat(writeDicomSeries(v, { framing: "no-preamble" })[0]!), "dicom");
  for (const ts of [TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN, TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN, TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN] as const) {
    assert.equal(detectVolumeFormat(writeDicomSeries(v, { framing: "bare", transferSyntaxUID: ts })[0]!), "dicom", ts);
  }
  assert.equal(detectVolumeFormat(writeNifti(v, { gzip: false })), "nifti");
  assert.equal(detectVolumeFormat(writeNifti(v, { gzip: true })), "nifti");
  assert.equal(detectVolumeFormat(greyPng()), "png");
  assert.equal(detectVolumeFormat(new TextEncoder().encode("hello, world")), undefined);
});

test("should decode a DICOM series passed as several files and a NIfTI passed as one", () => {
  const v = indexVolume();
  const fromDicom = decodeVolume(writeDicomSeries(v, { transferSyntaxUID: TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN }), { uidSalt: "org" });
  const fromNifti = decodeVolume(writeNifti(v));
  assert.deepEqual(Array.from(fromDicom.data), Array.from(v.data));
  assert.deepEqual(Array.from(fromNifti.data), Array.from(v.data));
  assert.equal(fromDicom.meta?.format, "DICOM");
  assert.equal(fromNifti.meta?.format, "NIfTI-1");
  assert.match(String(fromDicom.meta?.seriesInstanceUID), /^2\.25\./);
});

test("should decode a PNG into a one-slice raw volume when given PNG bytes", () => {
  const out = decodeVolume(greyPng());
  assert.deepEqual(out.dimsIJK, [3, 2, 1]);
  assert.deepEqual(Array.from(out.data), [1, 2, 3, 4, 5, 6]);
});

test("should throw UNSUPPORTED_FORMAT when the bytes match no format and no hint is given", () => {
  assert.throws(() => decodeVolume(new TextEncoder().encode("hello, world")), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
});

test("should throw INVALID_ARGUMENT when several files are not all DICOM", () => {
  const v = indexVolume();
  assert.throws(() => decodeVolume([writeNifti(v), writeNifti(v)]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  assert.throws(() => decodeVolume([]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
});

test("should pass limits through to the decoder when a limit is set", () => {
  assert.throws(() => decodeVolume(writeNifti(indexVolume()), { limits: { maxVoxels: 5 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
  assert.throws(() => decodeVolume(writeNifti(indexVolume()), { limits: { maxVoxels: -1 } }), (e) => isImagingError(e, "INVALID_ARGUMENT"));
});

test("should decode the same voxels without touching the input when bytes are Node Buffers at an offset", () => {
  const v = indexVolume();
  const atOffset = (b: Uint8Array): Buffer => Buffer.concat([Buffer.alloc(3), Buffer.from(b)]).subarray(3);
  const dicom = writeDicomSeries(v, { transferSyntaxUID: TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN }).map(atOffset);
  const before = Buffer.concat(dicom);
  assert.deepEqual(Array.from(decodeVolume(dicom).data), Array.from(v.data));
  assert.ok(Buffer.concat(dicom).equals(before), "input bytes were modified");
  assert.deepEqual(Array.from(decodeVolume(atOffset(writeNifti(v, { gzip: false }))).data), Array.from(v.data));
});
