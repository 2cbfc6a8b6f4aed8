import { test } from "node:test";
import assert from "node:assert/strict";
import { deflateRawSync } from "node:zlib";
import { writeDicomSeries } from "../../../imaging/dicom/dicom-series-writer.ts";
import { decodeDicomSeries } from "../../../imaging/dicom/decode-dicom-series.ts";
import { decodeVolume } from "../../../imaging/decode/decode-volume.ts";
import { parseDicomPart10 } from "../../../imaging/dicom/parse-dicom-part10.ts";
import { TRANSFER_SYNTAX } from "../../../imaging/dicom/transfer-syntax.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { COMPRESSED_FRAGMENTS, encapsulatePixelData, indexVolume, maxAbsDiff, obliqueDirection, withTransferSyntax } from "./fixtures.ts";

const SYNTAXES = [
  ["implicit VR little endian", TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN],
  ["explicit VR little endian", TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN],
  ["explicit VR big endian", TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN],
] as const;

function assertGeometryClose(actual: readonly (readonly number[])[], expected: readonly (readonly number[])[], tol = 1e-6): void {
  assert.equal(actual.length, expected.length);
  actual.forEach((row, n) => assert.ok(maxAbsDiff(row, expected[n]!) < tol, `row ${n}: ${row} vs ${expected[n]}`));
}

for (const [name, ts] of SYNTAXES) {
  for (const framing of ["part10", "no-preamble", "bare"] as const) {
    for (const multiFrame of [false, true]) {
      test(`should return the written HU, dims and geometry when a ${multiFrame ? "multi-frame" : "per-slice"} series is ${name}, ${framing}`, () => {
        const volume = indexVolume();
        const files = writeDicomSeries(volume, { transferSyntaxUID: ts, framing, multiFrame });
        assert.equal(files.length, multiFrame ? 1 : 3);
        const out = decodeDicomSeries(files);
        assert.deepEqual(out.dimsIJK, [5, 4, 3]);
        assert.equal(out.unit, "HU");
        assert.ok(out.data instanceof Int16Array);
        assert.deepEqual(Array.from(out.data), Array.from(volume.data));
        assertGeometryClose([out.spacingMm, out.originLPS], [volume.spacingMm, volume.originLPS]);
        assertGeometryClose(out.directionLPS, volume.directionLPS);
        assert.equal(out.meta?.transferSyntaxUID, ts);
      });
    }
  }
}

test("should apply RescaleSlope and RescaleIntercept when values are stored signed with slope 2", () => {
  const volume = indexVolume();
  const files = writeDicomSeries(volume, { rescaleSlope: 2, rescaleIntercept: -1000, pixelRepresentation: "signed" });
  const out = decodeDicomSeries(files);
  assert.ok(out.data instanceof Int16Array);
  // Stored = round((HU + 1000) / 2), so odd offsets round half up; the decoded HU is 2·stored − 1000.
  const expected = Array.from(volume.data, (hu) => 2 * Math.round((hu + 1000) / 2) - 1000);
  assert.deepEqual(Array.from(out.data), expected);
});

test("should return float32 HU when the rescale slope is not an integer", () => {
  const volume = indexVolume();
  const files = writeDicomSeries(volume, { rescaleSlope: 0.5, rescaleIntercept: -1024.25 });
  const out = decodeDicomSeries(files);
  assert.ok(out.data instanceof Float32Array);
  assert.ok(maxAbsDiff(out.data, volume.data) <= 0.25 + 1e-6);
});

test("should order slices along the normal and keep oblique geometry when files arrive shuffled", () => {
  const direction = obliqueDirection();
  const volume = indexVolume([6, 5, 7], { directionLPS: direction, spacingMm: [0.9, 1.1, 3], originLPS: [10, -20, 30] });
  const files = writeDicomSeries(volume);
  const shuffled = [files[3]!, files[0]!, files[6]!, files[2]!, files[5]!, files[1]!, files[4]!];
  const out = decodeDicomSeries(shuffled);
  assert.deepEqual(Array.from(out.data), Array.from(volume.data));
  assertGeometryClose(out.directionLPS, direction, 1e-5);
  assertGeometryClose([out.spacingMm, out.originLPS], [[0.9, 1.1, 3], [10, -20, 30]], 1e-4);
});

test("should flip the slice order and start at the last position when a series runs against its normal", () => {
  // k runs towards −z while rows × columns points to +z: the decoder re-orders along +z.
  const volume = indexVolume([4, 3, 5], {
    directionLPS: [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, -1],
    ],
    originLPS: [0, 0, 100],
    spacingMm: [1, 1, 2],
  });
  const out = decodeDicomSeries(writeDicomSeries(volume));
  assert.deepEqual(out.directionLPS[2], [0, 0, 1]);
  assertGeometryClose([out.originLPS, out.spacingMm], [[0, 0, 92], [1, 1, 2]]);
  const plane = 12;
  for (let k = 0; k < 5; k++) {
    assert.deepEqual(Array.from(out.data.subarray(k * plane, (k + 1) * plane)), Array.from(volume.data.subarray((4 - k) * plane, (5 - k) * plane)));
  }
});

test("should name the syntax in UNSUPPORTED_TRANSFER_SYNTAX when the file is RLE compressed", () => {
  const file = writeDicomSeries(indexVolume())[0]!;
  const at = Buffer.from(file).indexOf("1.2.840.10008.1.2.1\0");
  assert.ok(at > 0);
  file.set(Buffer.from("1.2.840.10008.1.2.5\0"), at);
  assert.throws(() => decodeDicomSeries([file]), (e) => isImagingError(e, "UNSUPPORTED_TRANSFER_SYNTAX") && /RLE Lossless/.test(e.message));
});

for (const [uid, name, fragment] of [
  ["1.2.840.10008.1.2.4.50", "JPEG Baseline (Process 1)", COMPRESSED_FRAGMENTS.jpeg],
  ["1.2.840.10008.1.2.4.90", "JPEG 2000 (Lossless Only)", COMPRESSED_FRAGMENTS.jpeg2000],
  ["1.2.840.10008.1.2.4.91", "JPEG 2000", COMPRESSED_FRAGMENTS.jpeg2000],
] as const) {
  test(`should answer UNSUPPORTED_TRANSFER_SYNTAX naming ${name} when a series carries encapsulated ${name} pixel data`, () => {
    const files = writeDicomSeries(indexVolume()).map((f) => withTransferSyntax(f, uid, (dataSet) => encapsulatePixelData(dataSet, [fragment])));
    const parsed = parseDicomPart10(files[0]!, 1 << 20);
    assert.equal(parsed.transferSyntaxUID, uid);
    assert.equal(parsed.dataSet.elements["x7fe00010"]?.encapsulatedPixelData, true, "a well-formed encapsulated file");
    for (const decode of [() => decodeDicomSeries(files), () => decodeVolume(files), () => decodeVolume(files[0]!)]) {
      assert.throws(decode, (e) => isImagingError(e, "UNSUPPORTED_TRANSFER_SYNTAX") && e.message.includes(`${name} (${uid})`));
    }
  });
}

test("should throw IMAGING_TRUNCATED when a file is cut inside its pixel data", () => {
  const file = writeDicomSeries(indexVolume())[0]!;
  assert.throws(() => decodeDicomSeries([file.subarray(0, file.length - 7)]), (e) => isImagingError(e, "IMAGING_TRUNCATED"));
});

test("should throw IMAGING_INCONSISTENT when Rows disagrees with the pixel data length", () => {
  const files = writeDicomSeries(indexVolume(), { extraAttributes: { "00280010": { vr: "US", Value: [9] } } });
  assert.throws(() => decodeDicomSeries(files), (e) => isImagingError(e, "IMAGING_INCONSISTENT"));
});

test("should throw IMAGING_TOO_LARGE when the series exceeds the voxel limit", () => {
  const files = writeDicomSeries(indexVolume());
  assert.throws(() => decodeDicomSeries(files, { limits: { maxVoxels: 50 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
});

test("should throw IMAGING_INCONSISTENT when files of two series are mixed", () => {
  const a = writeDicomSeries(indexVolume(), { uidSeed: "a" });
  const b = writeDicomSeries(indexVolume(), { uidSeed: "b" });
  assert.throws(() => decodeDicomSeries([a[0]!, b[1]!]), (e) => isImagingError(e, "IMAGING_INCONSISTENT") && /more than one series/.test(e.message));
});

test("should throw IMAGING_INCONSISTENT when a slice is missing from the middle", () => {
  const files = writeDicomSeries(indexVolume([3, 3, 4]));
  assert.throws(() => decodeDicomSeries([files[0]!, files[1]!, files[3]!]), (e) => isImagingError(e, "IMAGING_INCONSISTENT") && /evenly spaced/.test(e.message));
});

test("should throw INVALID_ARGUMENT when no files are given", () => {
  assert.throws(() => decodeDicomSeries([]), (e) => isImagingError(e, "INVALID_ARGUMENT"));
});

test("should throw UNSUPPORTED_FORMAT when the bytes are not DICOM", () => {
  assert.throws(() => decodeDicomSeries([new Uint8Array(300).fill(0xab)]), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
});

/** Re-encodes an explicit VR LE Part 10 file as Deflated Explicit VR LE (meta header patched by hand). */
function deflate(file: Uint8Array, body?: Uint8Array): Uint8Array {
  return withTransferSyntax(file, TRANSFER_SYNTAX.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN, (dataSet) => deflateRawSync(body ?? dataSet));
}

test("should decode the same HU when the data set is deflated", () => {
  const volume = indexVolume();
  const files = writeDicomSeries(volume).map((f) => deflate(f));
  const out = decodeDicomSeries(files);
  assert.equal(out.meta?.transferSyntaxUID, TRANSFER_SYNTAX.DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN);
  assert.deepEqual(Array.from(out.data), Array.from(volume.data));
});

test("should throw IMAGING_TOO_LARGE when a deflated data set inflates past maxBytes", () => {
  const file = writeDicomSeries(indexVolume())[0]!;
  const bomb = deflate(file, new Uint8Array(4 << 20));
  assert.ok(bomb.length < 10_000);
  assert.throws(() => decodeDicomSeries([bomb], { limits: { maxBytes: 1 << 20 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
});
