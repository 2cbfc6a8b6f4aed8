// Extracts per-frame geometry and HU pixels from a parsed DICOM file (single- or multi-frame).
import type dicomParser from "dicom-parser";
import { ImagingError } from "../errors/imaging-error.ts";
import type { DecodeLimits } from "../decode/decode-limits.ts";
import type { ParsedDicom } from "./parse-dicom-part10.ts";
import { TRANSFER_SYNTAX, describeTransferSyntax, isSupportedTransferSyntax } from "./transfer-syntax.ts";

/** One 2D frame of a DICOM file with the geometry needed to place it in a volume. */
export interface DicomFrame {
  readonly rows: number;
  readonly columns: number;
  /** ImageOrientationPatient: row direction (i axis) then column direction (j axis), unit vectors in LPS. */
  readonly orientationLPS?: readonly [number, number, number, number, number, number];
  /** ImagePositionPatient: centre of the first pixel, mm, LPS. */
  readonly positionLPS?: readonly [number, number, number];
  /** In-plane spacing along i (between columns) and j (between rows), mm. */
  readonly spacingIJMm?: readonly [number, number];
  /** SpacingBetweenSlices, else SliceThickness, mm (only used for single-frame volumes). */
  readonly sliceSpacingMm?: number;
  /** Rescale applied to stored values: HU = stored × slope + intercept. */
  readonly rescaleSlope: number;
  readonly rescaleIntercept: number;
  /** Stored pixel values, row-major (row = j, column = i), already sign-extended and byte-swapped. */
  readonly stored: Int16Array | Uint16Array | Uint8Array | Int8Array | Int32Array | Uint32Array;
  readonly seriesInstanceUID?: string;
  readonly instanceNumber?: number;
}

/**
 * Reads the frames of one parsed DICOM file. Multi-frame files take per-frame geometry from the
 * (shared / per-frame) functional groups when present, otherwise from ImagePositionPatient stepped
 * by SpacingBetweenSlices along the slice normal.
 *
 * @throws ImagingError UNSUPPORTED_TRANSFER_SYNTAX for compressed pixel data (message names the
 *   syntax), UNSUPPORTED_FORMAT for colour or non-integer pixels, IMAGING_INCONSISTENT when the
 *   pixel data length disagrees with rows × columns × frames × bits or attributes are invalid,
 *   IMAGING_TRUNCATED when the pixel data runs past the end of the file, IMAGING_TOO_LARGE over
 *   `limits.maxVoxels` / `limits.maxSlices`.
 */
export function readDicomFrames(parsed: ParsedDicom, limits: DecodeLimits): DicomFrame[] {
  const { dataSet: ds, transferSyntaxUID } = parsed;
  if (!isSupportedTransferSyntax(transferSyntaxUID)) {
    throw new ImagingError(
      "UNSUPPORTED_TRANSFER_SYNTAX",
      `DICOM transfer syntax ${describeTransferSyntax(transferSyntaxUID)} is not supported; re-send uncompressed (Explicit VR Little Endian)`,
    );
  }
  const pixel = ds.elements["x7fe00010"];
  if (!pixel) throw new ImagingError("IMAGING_INCONSISTENT", "DICOM file has no Pixel Data (7FE0,0010)");
  if (pixel.encapsulatedPixelData) {
    throw new ImagingError("UNSUPPORTED_TRANSFER_SYNTAX", `encapsulated pixel data in ${describeTransferSyntax(transferSyntaxUID)}`);
  }
  const rows = requiredUint(ds, "x00280010", "Rows");
  const columns = requiredUint(ds, "x00280011", "Columns");
  const samples = ds.uint16("x00280002") ?? 1;
  if (samples !== 1) throw new ImagingError("UNSUPPORTED_FORMAT", `SamplesPerPixel ${samples}: only greyscale images are supported`);
  const bitsAllocated = requiredUint(ds, "x00280100", "BitsAllocated");
  if (bitsAllocated !== 8 && bitsAllocated !== 16 && bitsAllocated !== 32) {
    throw new ImagingError("UNSUPPORTED_FORMAT", `BitsAllocated ${bitsAllocated} is not 8, 16 or 32`);
  }
  const bitsStored = ds.uint16("x00280101") ?? bitsAllocated;
  if (bitsStored < 1 || bitsStored > bitsAllocated) {
    throw new ImagingError("IMAGING_INCONSISTENT", `BitsStored ${bitsStored} outside 1..${bitsAllocated}`);
  }
  const signed = (ds.uint16("x00280103") ?? 0) === 1;
  const frames = parseIntString(ds.string("x00280008")) ?? 1;
  if (!Number.isSafeInteger(frames) || frames < 1) throw new ImagingError("IMAGING_INCONSISTENT", `NumberOfFrames ${frames} is invalid`);
  if (frames > limits.maxSlices) {
    throw new ImagingError("IMAGING_TOO_LARGE", `${frames} frames exceed the ${limits.maxSlices}-slice limit`);
  }
  const frameVoxels = rows * columns;
  if (frameVoxels * frames > limits.maxVoxels) {
    throw new ImagingError("IMAGING_TOO_LARGE", `${frameVoxels * frames} voxels exceed the ${limits.maxVoxels}-voxel limit`);
  }
  const bytesPerVoxel = bitsAllocated / 8;
  const expected = frameVoxels * frames * bytesPerVoxel;
  const byteArray = ds.byteArray as Uint8Array;
  if (pixel.dataOffset + Math.min(pixel.length, expected) > byteArray.byteLength) {
    throw new ImagingError("IMAGING_TRUNCATED", "DICOM pixel data runs past the end of the file");
  }
  // Odd-length data is padded to even length, so allow one trailing byte.
  if (pixel.length !== expected && pixel.length !== expected + 1) {
    throw new ImagingError(
      "IMAGING_INCONSISTENT",
      `pixel data holds ${pixel.length} bytes; ${rows}×${columns}×${frames} at ${bitsAllocated} bits needs ${expected}`,
    );
  }
  const littleEndian = transferSyntaxUID !== TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN;
  const all = readStored(byteArray, pixel.dataOffset, frameVoxels * frames, bitsAllocated, bitsStored, signed, littleEndian);

  const top = readGeometry(ds);
  const shared = firstItem(ds, "x52009229");
  const perFrame = ds.elements["x52009230"]?.items;
  const seriesInstanceUID = cleanString(ds.string("x0020000e"));
  const instanceNumber = parseIntString(ds.string("x00200013"));

  const out: DicomFrame[] = [];
  for (let f = 0; f < frames; f++) {
    const item = perFrame?.[f]?.dataSet;
    const g = mergeGeometry(top, shared ? readGroupGeometry(shared) : {}, item ? readGroupGeometry(item) : {});
    let positionLPS = g.positionLPS;
    if (frames > 1 && !(item && readGroupGeometry(item).positionLPS) && positionLPS && g.orientationLPS) {
      // Legacy multi-frame: step from the first frame's position along the slice normal.
      const step = g.sliceSpacingMm ?? 1;
      const n = cross(g.orientationLPS);
      positionLPS = [positionLPS[0] + n[0] * step * f, positionLPS[1] + n[1] * step * f, positionLPS[2] + n[2] * step * f];
    }
    const frame: DicomFrame = {
      rows,
      columns,
      rescaleSlope: g.rescaleSlope ?? 1,
      rescaleIntercept: g.rescaleIntercept ?? 0,
      stored: all.subarray(f * frameVoxels, (f + 1) * frameVoxels),
      ...(g.orientationLPS ? { orientationLPS: g.orientationLPS } : {}),
      ...(positionLPS ? { positionLPS } : {}),
      ...(g.spacingIJMm ? { spacingIJMm: g.spacingIJMm } : {}),
      ...(g.sliceSpacingMm !== undefined ? { sliceSpacingMm: g.sliceSpacingMm } : {}),
      ...(seriesInstanceUID ? { seriesInstanceUID } : {}),
      ...(instanceNumber !== undefined ? { instanceNumber } : {}),
    };
    if (!Number.isFinite(frame.rescaleSlope) || frame.rescaleSlope === 0 || !Number.isFinite(frame.rescaleIntercept)) {
      throw new ImagingError("IMAGING_INCONSISTENT", "RescaleSlope/RescaleIntercept are not finite (or slope is 0)");
    }
    out.push(frame);
  }
  return out;
}

interface Geometry {
  orientationLPS?: [number, number, number, number, number, number];
  positionLPS?: [number, number, number];
  spacingIJMm?: [number, number];
  sliceSpacingMm?: number;
  rescaleSlope?: number;
  rescaleIntercept?: number;
}

function readGeometry(ds: dicomParser.DataSet): Geometry {
  const g: Geometry = {};
  const iop = readDecimals(ds, "x00200037", 6);
  if (iop) g.orientationLPS = normaliseOrientation(iop);
  const ipp = readDecimals(ds, "x00200032", 3);
  if (ipp) g.positionLPS = [ipp[0]!, ipp[1]!, ipp[2]!];
  const ps = readDecimals(ds, "x00280030", 2);
  if (ps) {
    // PixelSpacing is (row spacing = along j, column spacing = along i).
    if (!(ps[0]! > 0 && ps[1]! > 0)) throw new ImagingError("IMAGING_INCONSISTENT", "PixelSpacing must be positive");
    g.spacingIJMm = [ps[1]!, ps[0]!];
  }
  const between = readDecimals(ds, "x00180088", 1)?.[0];
  const thickness = readDecimals(ds, "x00180050", 1)?.[0];
  const slice = between !== undefined && between !== 0 ? Math.abs(between) : thickness;
  if (slice !== undefined && slice > 0) g.sliceSpacingMm = slice;
  const slope = readDecimals(ds, "x00281053", 1)?.[0];
  if (slope !== undefined) g.rescaleSlope = slope;
  const intercept = readDecimals(ds, "x00281052", 1)?.[0];
  if (intercept !== undefined) g.rescaleIntercept = intercept;
  return g;
}

/** Geometry inside a functional group item (shared or per-frame). */
function readGroupGeometry(item: dicomParser.DataSet): Geometry {
  const parts = ["x00209113", "x00209116", "x00289110", "x00289145"]
    .map((tag) => firstItem(item, tag))
    .filter((d): d is dicomParser.DataSet => d !== undefined)
    .map(readGeometry);
  return mergeGeometry(...parts);
}

function mergeGeometry(...gs: Geometry[]): Geometry {
  const out: Geometry = {};
  for (const g of gs) {
    for (const [k, v] of Object.entries(g)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  }
  return out;
}

function firstItem(ds: dicomParser.DataSet, tag: string): dicomParser.DataSet | undefined {
  return ds.elements[tag]?.items?.[0]?.dataSet;
}

function normaliseOrientation(v: number[]): [number, number, number, number, number, number] {
  const r = [v[0]!, v[1]!, v[2]!];
  const c = [v[3]!, v[4]!, v[5]!];
  const nr = Math.hypot(r[0]!, r[1]!, r[2]!);
  const nc = Math.hypot(c[0]!, c[1]!, c[2]!);
  if (!(nr > 1e-6 && nc > 1e-6)) throw new ImagingError("IMAGING_INCONSISTENT", "ImageOrientationPatient has a zero vector");
  const dot = (r[0]! * c[0]! + r[1]! * c[1]! + r[2]! * c[2]!) / (nr * nc);
  if (Math.abs(dot) > 1e-3) throw new ImagingError("IMAGING_INCONSISTENT", "ImageOrientationPatient rows and columns are not orthogonal");
  return [r[0]! / nr, r[1]! / nr, r[2]! / nr, c[0]! / nc, c[1]! / nc, c[2]! / nc];
}

/** Slice normal = row direction × column direction. */
export function cross(o: readonly number[]): [number, number, number] {
  const [a, b, c, d, e, f] = o as [number, number, number, number, number, number];
  return [b * f - c * e, c * d - a * f, a * e - b * d];
}

function readDecimals(ds: dicomParser.DataSet, tag: string, count: number): number[] | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0) return undefined;
  const text = ds.string(tag);
  if (text === undefined) return undefined;
  const raw = text.split("\\").slice(0, count);
  // Number("") is 0: a blank component is invalid, not zero.
  const parts = raw.map((p) => (p.trim() === "" ? NaN : Number(p.trim())));
  if (parts.length < count || parts.some((x) => !Number.isFinite(x))) {
    throw new ImagingError("IMAGING_INCONSISTENT", `attribute ${tag} needs ${count} decimal values`);
  }
  return parts.slice(0, count);
}

function requiredUint(ds: dicomParser.DataSet, tag: string, name: string): number {
  const v = ds.elements[tag] && ds.elements[tag]!.length >= 2 ? ds.uint16(tag) : undefined;
  if (v === undefined || v === 0) throw new ImagingError("IMAGING_INCONSISTENT", `DICOM attribute ${name} is missing or zero`);
  return v;
}

function parseIntString(text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const t = text.replace(/\0/g, "").trim();
  if (t === "") return undefined;
  const n = Number(t);
  return Number.isFinite(n) ? n : undefined;
}

function cleanString(text: string | undefined): string | undefined {
  const t = text?.replace(/\0/g, "").trim();
  return t ? t : undefined;
}

/** Copies stored values into an aligned typed array, swapping bytes and sign-extending as needed. */
function readStored(
  bytes: Uint8Array,
  offset: number,
  count: number,
  bitsAllocated: number,
  bitsStored: number,
  signed: boolean,
  littleEndian: boolean,
): Int16Array | Uint16Array | Uint8Array | Int8Array | Int32Array | Uint32Array {
  const nbytes = count * (bitsAllocated / 8);
  // A fresh copy (not .slice(), which on a Node Buffer is a view into a shared pool).
  const copy = new Uint8Array(bytes.subarray(offset, offset + nbytes));
  const hostLE = new Uint8Array(new Uint16Array([1]).buffer)[0] === 1;
  if (bitsAllocated > 8 && littleEndian !== hostLE) {
    if (bitsAllocated === 16) {
      for (let p = 0; p + 1 < nbytes; p += 2) {
        const t = copy[p]!;
        copy[p] = copy[p + 1]!;
        copy[p + 1] = t;
      }
    } else {
      for (let p = 0; p + 3 < nbytes; p += 4) copy.subarray(p, p + 4).reverse();
    }
  }
  const buf = copy.buffer;
  const arr =
    bitsAllocated === 8
      ? signed ? new Int8Array(buf, 0, count) : new Uint8Array(buf, 0, count)
      : bitsAllocated === 16
        ? signed ? new Int16Array(buf, 0, count) : new Uint16Array(buf, 0, count)
        : signed ? new Int32Array(buf, 0, count) : new Uint32Array(buf, 0, count);
  if (bitsStored < bitsAllocated) {
    // High bits above BitsStored may hold overlays or garbage: mask, then sign-extend.
    const shift = 32 - bitsStored;
    const mask = bitsStored === 32 ? -1 : (1 << bitsStored) - 1;
    for (let p = 0; p < count; p++) arr[p] = signed ? (arr[p]! << shift) >> shift : arr[p]! & mask;
  }
  return arr;
}
