// Assembles DICOM files (one series, single- or multi-frame) into a Volume in HU with LPS geometry.
import { ImagingError } from "../errors/imaging-error.ts";
import { resolveDecodeLimits, type DecodeLimits } from "../decode/decode-limits.ts";
import type { Volume } from "../volume.ts";
import { parseDicomPart10, type ParsedDicom } from "./parse-dicom-part10.ts";
import { cross, readDicomFrames, type DicomFrame } from "./read-dicom-frames.ts";
import { extractDeidentifiedMetadata } from "./deidentify.ts";

/** Options for {@link decodeDicomSeries}. */
export interface DicomDecodeOptions {
  /** Size limits; unset fields take {@link DEFAULT_DECODE_LIMITS}. */
  readonly limits?: Partial<DecodeLimits>;
  /**
   * Per-organisation secret used to remap StudyInstanceUID / SeriesInstanceUID in the returned
   * metadata (HMAC → 2.25.<decimal>). Without it the metadata carries no UIDs at all.
   */
  readonly uidSalt?: string | Uint8Array;
}

/** Relative tolerance on slice-to-slice spacing before a series counts as irregular. */
const SPACING_TOLERANCE = 0.01;

/**
 * Decodes one or more DICOM files of a single series into a volume in HU.
 *
 * - Voxels: HU = stored × RescaleSlope + RescaleIntercept; an Int16Array when every slope and
 *   intercept is an integer and the HU range fits int16, else a Float32Array.
 * - Order: frames sorted by ImagePositionPatient projected on the slice normal
 *   (row × column direction of ImageOrientationPatient), ascending, whatever the file order.
 * - Geometry (LPS, mm): i = row direction (columns), j = column direction (rows), k = the normal;
 *   origin = position of the first sorted frame; k spacing = mean position step. A single frame
 *   takes SpacingBetweenSlices, else SliceThickness, else 1 mm. Missing orientation/position on a
 *   single frame means identity/zero.
 * - `meta` holds only de-identified attributes (see {@link extractDeidentifiedMetadata}).
 *
 * @throws ImagingError INVALID_ARGUMENT for an empty list; IMAGING_TOO_LARGE over the limits;
 *   IMAGING_INCONSISTENT for mixed series, mismatched sizes/orientations, duplicate or missing
 *   positions, irregular spacing or gantry tilt; plus any error of {@link parseDicomPart10} and
 *   {@link readDicomFrames} (IMAGING_TRUNCATED, UNSUPPORTED_TRANSFER_SYNTAX, UNSUPPORTED_FORMAT).
 */
export function decodeDicomSeries(files: readonly Uint8Array[], options: DicomDecodeOptions = {}): Volume {
  const limits = resolveDecodeLimits(options.limits);
  if (files.length === 0) throw new ImagingError("INVALID_ARGUMENT", "no DICOM files given");
  if (files.length > limits.maxSlices) {
    throw new ImagingError("IMAGING_TOO_LARGE", `${files.length} files exceed the ${limits.maxSlices}-slice limit`);
  }
  const frames: DicomFrame[] = [];
  let first: ParsedDicom | undefined;
  let voxels = 0;
  for (const file of files) {
    const parsed = parseDicomPart10(file, limits.maxBytes);
    first ??= parsed;
    for (const f of readDicomFrames(parsed, limits)) {
      voxels += f.rows * f.columns;
      if (voxels > limits.maxVoxels) throw new ImagingError("IMAGING_TOO_LARGE", `series exceeds the ${limits.maxVoxels}-voxel limit`);
      frames.push(f);
    }
    if (frames.length > limits.maxSlices) {
      throw new ImagingError("IMAGING_TOO_LARGE", `${frames.length} frames exceed the ${limits.maxSlices}-slice limit`);
    }
  }
  const volume = assembleFrames(frames);
  const meta = extractDeidentifiedMetadata(first!.dataSet, {
    transferSyntaxUID: first!.transferSyntaxUID,
    ...(options.uidSalt !== undefined ? { uidSalt: options.uidSalt } : {}),
  });
  return { ...volume, meta: { format: "DICOM", files: files.length, ...meta } };
}

function assembleFrames(frames: DicomFrame[]): Volume {
  const ref = frames[0]!;
  const nx = ref.columns;
  const ny = ref.rows;
  const nz = frames.length;
  for (const f of frames) {
    if (f.columns !== nx || f.rows !== ny) throw new ImagingError("IMAGING_INCONSISTENT", "frames of the series differ in size");
    if (f.seriesInstanceUID !== ref.seriesInstanceUID) {
      throw new ImagingError("IMAGING_INCONSISTENT", "files belong to more than one series");
    }
    if (!sameVector(f.orientationLPS, ref.orientationLPS, 1e-3)) {
      throw new ImagingError("IMAGING_INCONSISTENT", "frames of the series differ in ImageOrientationPatient");
    }
    if (!sameVector(f.spacingIJMm, ref.spacingIJMm, 1e-4 * (ref.spacingIJMm?.[0] ?? 1))) {
      throw new ImagingError("IMAGING_INCONSISTENT", "frames of the series differ in PixelSpacing");
    }
  }
  const o = ref.orientationLPS ?? [1, 0, 0, 0, 1, 0];
  const normal = cross(o);

  let sorted = frames;
  let spacingK = ref.sliceSpacingMm ?? 1;
  if (nz > 1) {
    if (frames.some((f) => !f.positionLPS)) {
      throw new ImagingError("IMAGING_INCONSISTENT", "a multi-slice series needs ImagePositionPatient on every frame");
    }
    const proj = (f: DicomFrame): number => dot(f.positionLPS!, normal);
    sorted = [...frames].sort((a, b) => proj(a) - proj(b));
    const total = proj(sorted[nz - 1]!) - proj(sorted[0]!);
    spacingK = total / (nz - 1);
    if (!(spacingK > 1e-4)) throw new ImagingError("IMAGING_INCONSISTENT", "frames share the same position");
    for (let k = 1; k < nz; k++) {
      const step = proj(sorted[k]!) - proj(sorted[k - 1]!);
      if (Math.abs(step - spacingK) > SPACING_TOLERANCE * spacingK + 1e-3) {
        throw new ImagingError("IMAGING_INCONSISTENT", "slice positions are not evenly spaced (missing or duplicate slices)");
      }
    }
    // Positions must advance along the normal; a sideways drift is gantry tilt, not a regular grid.
    const a = sorted[0]!.positionLPS!;
    const b = sorted[nz - 1]!.positionLPS!;
    const lateral = Math.hypot(...[0, 1, 2].map((d) => b[d]! - a[d]! - normal[d]! * total));
    if (lateral > SPACING_TOLERANCE * total + 1e-3) {
      throw new ImagingError("IMAGING_INCONSISTENT", "slice positions drift off the slice normal (gantry tilt is not supported)");
    }
  }

  const integral = sorted.every((f) => Number.isInteger(f.rescaleSlope) && Number.isInteger(f.rescaleIntercept));
  let lo = Infinity;
  let hi = -Infinity;
  for (const f of sorted) {
    const [mn, mx] = f.stored instanceof Int16Array ? minMaxInt16(f.stored) : minMax(f.stored);
    const ends = [mn * f.rescaleSlope + f.rescaleIntercept, mx * f.rescaleSlope + f.rescaleIntercept];
    lo = Math.min(lo, ...ends);
    hi = Math.max(hi, ...ends);
  }
  const fitsInt16 = integral && lo >= -32768 && hi <= 32767;
  const plane = nx * ny;
  const data = fitsInt16 ? new Int16Array(plane * nz) : new Float32Array(plane * nz);
  sorted.forEach((f, k) => {
    const s = f.stored;
    const base = k * plane;
    const m = f.rescaleSlope;
    const c = f.rescaleIntercept;
    if (m === 1 && c === 0) data.set(s, base);
    // Monomorphic loop for the common case (int16 stored → int16 HU) keeps V8 on its fast path.
    else if (data instanceof Int16Array && s instanceof Int16Array) rescaleInt16(data, base, s, m, c);
    else for (let p = 0; p < plane; p++) data[base + p] = s[p]! * m + c;
  });
  const sp = ref.spacingIJMm ?? [1, 1];
  const pos = sorted[0]!.positionLPS ?? [0, 0, 0];
  return {
    dimsIJK: [nx, ny, nz],
    spacingMm: [sp[0], sp[1], spacingK],
    originLPS: [pos[0], pos[1], pos[2]],
    directionLPS: [
      [o[0], o[1], o[2]],
      [o[3], o[4], o[5]],
      normal,
    ],
    unit: "HU",
    data,
  };
}

function rescaleInt16(out: Int16Array, base: number, s: Int16Array, m: number, c: number): void {
  for (let p = 0; p < s.length; p++) out[base + p] = s[p]! * m + c;
}

function minMaxInt16(s: Int16Array): [number, number] {
  let mn = 32767;
  let mx = -32768;
  for (let p = 0; p < s.length; p++) {
    const v = s[p]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

function minMax(s: ArrayLike<number>): [number, number] {
  let mn = Infinity;
  let mx = -Infinity;
  for (let p = 0; p < s.length; p++) {
    const v = s[p]!;
    if (v < mn) mn = v;
    if (v > mx) mx = v;
  }
  return [mn, mx];
}

function dot(a: readonly number[], b: readonly number[]): number {
  return a[0]! * b[0]! + a[1]! * b[1]! + a[2]! * b[2]!;
}

function sameVector(a: readonly number[] | undefined, b: readonly number[] | undefined, tol: number): boolean {
  if (a === undefined || b === undefined) return a === b;
  return a.length === b.length && a.every((x, n) => Math.abs(x - b[n]!) <= tol);
}
