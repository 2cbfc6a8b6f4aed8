import { describe, it } from "node:test";
import assert from "node:assert/strict";
import dicomParser from "dicom-parser";
import { writeDicomSeg, type SegSourceSeries } from "../../../imaging/mask/dicom-seg-writer.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { maskFromRows } from "./mask-fixture.ts";

const CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";

function sourceSeries(): SegSourceSeries {
  return {
    studyInstanceUID: "2.25.1001",
    seriesInstanceUID: "2.25.1002",
    frameOfReferenceUID: "2.25.1003",
    rows: 3,
    columns: 5,
    pixelSpacingMm: [0.7, 0.8],
    sliceThicknessMm: 2.5,
    imageOrientationPatient: [1, 0, 0, 0, 1, 0],
    patientName: "ANON",
    patientID: "ANON-1",
    instances: [0, 1, 2].map((k) => ({
      sopClassUID: CT_IMAGE_STORAGE,
      sopInstanceUID: `2.25.2000${k}`,
      imagePositionPatient: [-100, -120, 30 + 2.5 * k] as [number, number, number],
    })),
  };
}

/** Unpacks frame n of a 1-bit, LSB-first, back-to-back PixelData. */
function unpackFrame(pixelData: Uint8Array, n: number, plane: number): number[] {
  const out: number[] = [];
  for (let p = 0; p < plane; p++) {
    const bit = n * plane + p;
    out.push((pixelData[bit >> 3]! >> (bit & 7)) & 1);
  }
  return out;
}

describe("writeDicomSeg", () => {
  const masks = [maskFromRows(["#....", ".##..", "....#"]), maskFromRows(["#####", ".....", "##.##"])];

  it("should round-trip frames and source references when parsed back with dicom-parser", () => {
    const bytes = writeDicomSeg(
      sourceSeries(),
      [
        { sopInstanceUID: "2.25.20002", mask: masks[0]! },
        { sopInstanceUID: "2.25.20000", mask: masks[1]! },
      ],
      { seriesInstanceUID: "2.25.3001", sopInstanceUID: "2.25.3002", contentDateTime: new Date("2026-11-25T10:20:30Z") },
    );
    const ds = dicomParser.parseDicom(bytes);

    assert.equal(ds.string("x00020010"), "1.2.840.10008.1.2.1");
    assert.equal(ds.string("x00080016"), "1.2.840.10008.5.1.4.1.1.66.4");
    assert.equal(ds.string("x00080018"), "2.25.3002");
    assert.equal(ds.string("x00080060"), "SEG");
    assert.equal(ds.string("x0020000e"), "2.25.3001");
    assert.equal(ds.string("x0020000d"), "2.25.1001");
    assert.equal(ds.string("x00200052"), "2.25.1003");
    assert.equal(ds.string("x00080023"), "20261125");
    assert.equal(ds.string("x00620001"), "BINARY");
    assert.equal(ds.uint16("x00280010"), 3);
    assert.equal(ds.uint16("x00280011"), 5);
    assert.equal(ds.uint16("x00280100"), 1);
    assert.equal(ds.intString("x00280008"), 2);

    const segment = ds.elements.x00620002!.items![0]!.dataSet!;
    assert.equal(segment.uint16("x00620004"), 1);
    assert.equal(segment.string("x00620008"), "AUTOMATIC");

    const refSeries = ds.elements.x00081115!.items![0]!.dataSet!;
    assert.equal(refSeries.string("x0020000e"), "2.25.1002");
    const refInstances = refSeries.elements.x0008114a!.items!.map((i) => i.dataSet!.string("x00081155"));
    assert.deepEqual(refInstances, ["2.25.20002", "2.25.20000"]);

    const shared = ds.elements.x52009229!.items![0]!.dataSet!;
    const measures = shared.elements.x00289110!.items![0]!.dataSet!;
    assert.equal(measures.string("x00280030"), "0.7\\0.8");

    const perFrame = ds.elements.x52009230!.items!.map((i) => i.dataSet!);
    assert.equal(perFrame.length, 2);
    const sources = perFrame.map((f) => {
      const derivation = f.elements.x00089124!.items![0]!.dataSet!;
      const src = derivation.elements.x00082112!.items![0]!.dataSet!;
      return [src.string("x00081150"), src.string("x00081155")];
    });
    assert.deepEqual(sources, [
      [CT_IMAGE_STORAGE, "2.25.20002"],
      [CT_IMAGE_STORAGE, "2.25.20000"],
    ]);
    const positions = perFrame.map((f) => f.elements.x00209113!.items![0]!.dataSet!.string("x00200032"));
    assert.deepEqual(positions, ["-100\\-120\\35", "-100\\-120\\30"]);
    const segmentNumbers = perFrame.map((f) => f.elements.x0062000a!.items![0]!.dataSet!.uint16("x0062000b"));
    assert.deepEqual(segmentNumbers, [1, 1]);

    const pixel = ds.elements.x7fe00010!;
    assert.equal(pixel.length, 4); // 30 bits → 4 bytes (even)
    const pixelData = bytes.subarray(pixel.dataOffset, pixel.dataOffset + pixel.length);
    assert.deepEqual(unpackFrame(pixelData, 0, 15), Array.from(masks[0]!.data));
    assert.deepEqual(unpackFrame(pixelData, 1, 15), Array.from(masks[1]!.data));
  });

  it("should throw INVALID_ARGUMENT when a frame references an unknown instance", () => {
    assert.throws(
      () => writeDicomSeg(sourceSeries(), [{ sopInstanceUID: "2.25.999", mask: masks[0]! }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });

  it("should throw INVALID_ARGUMENT when a mask is not rows × columns", () => {
    assert.throws(
      () => writeDicomSeg(sourceSeries(), [{ sopInstanceUID: "2.25.20000", mask: maskFromRows(["##", "##"]) }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
  });

  it("should throw INVALID_ARGUMENT when a UID is malformed or there are no frames", () => {
    assert.throws(
      () => writeDicomSeg({ ...sourceSeries(), studyInstanceUID: "1.02.x" }, [{ sopInstanceUID: "2.25.20000", mask: masks[0]! }]),
      (e) => isImagingError(e, "INVALID_ARGUMENT"),
    );
    assert.throws(() => writeDicomSeg(sourceSeries(), []), (e) => isImagingError(e, "INVALID_ARGUMENT"));
  });
});
