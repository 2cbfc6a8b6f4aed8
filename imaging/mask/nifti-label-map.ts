// Per-slice masks written as a NIfTI-1 label map on the source volume's grid.
import { ImagingError } from "../errors/imaging-error.ts";
import { writeNifti } from "../nifti/nifti-writer.ts";
import type { Volume } from "../volume.ts";
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

/** NIFTI_INTENT_LABEL: tells viewers the voxels are labels, not intensities. */
const NIFTI_INTENT_LABEL = 1002;

/** One slice's mask, on the native slice grid (width = nx, height = ny; row = j, column = i). */
export interface SliceMask {
  /** Slice index k in the source volume (0-based). */
  readonly sliceIndex: number;
  readonly mask: BinaryMask;
}

/** Options for {@link writeNiftiLabelMap}. */
export interface NiftiLabelMapOptions {
  /** Label written for foreground pixels, 1–255; default 1. Background is always 0. */
  readonly label?: number;
  /** gzip the output (`.nii.gz`); default true. */
  readonly gzip?: boolean;
}

/**
 * Builds a uint8 label volume with the geometry of `reference` (dims, spacing, origin and
 * direction in LPS), where slice k holds `label` at the foreground pixels of the mask given for k
 * and 0 elsewhere (slices without a mask are all 0), and serialises it with the project's NIfTI-1
 * writer: qform = sform = the source geometry, intent NIFTI_INTENT_LABEL. Masks must already be at
 * native size (see `maskToNative`). Voxel (i, j, k) = `mask.data[j·nx + i]` of slice k.
 *
 * @param reference the source volume (only its geometry is read)
 * @param slices masks by slice index (each index at most once)
 * @returns the `.nii.gz` (or `.nii`) file bytes
 * @throws ImagingError INVALID_ARGUMENT when a slice index is out of range or repeated, a mask is
 *   malformed or not nx × ny, or the label is not an integer in 1–255.
 */
export function writeNiftiLabelMap(
  reference: Pick<Volume, "dimsIJK" | "spacingMm" | "originLPS" | "directionLPS">,
  slices: readonly SliceMask[],
  options: NiftiLabelMapOptions = {},
): Uint8Array {
  const label = options.label ?? 1;
  if (!Number.isInteger(label) || label < 1 || label > 255) {
    throw new ImagingError("INVALID_ARGUMENT", `label ${label} must be an integer in 1..255`);
  }
  const [nx, ny, nz] = reference.dimsIJK;
  if (![nx, ny, nz].every((d) => Number.isInteger(d) && d >= 1)) {
    throw new ImagingError("INVALID_ARGUMENT", `reference dims ${nx}×${ny}×${nz} are not positive integers`);
  }
  const plane = nx * ny;
  const data = new Uint8Array(plane * nz);
  const seen = new Set<number>();
  for (const { sliceIndex, mask } of slices) {
    if (!Number.isInteger(sliceIndex) || sliceIndex < 0 || sliceIndex >= nz) {
      throw new ImagingError("INVALID_ARGUMENT", `slice index ${sliceIndex} outside 0..${nz - 1}`);
    }
    if (seen.has(sliceIndex)) throw new ImagingError("INVALID_ARGUMENT", `slice index ${sliceIndex} given twice`);
    seen.add(sliceIndex);
    assertBinaryMask(mask, `mask of slice ${sliceIndex}`);
    if (mask.width !== nx || mask.height !== ny) {
      throw new ImagingError("INVALID_ARGUMENT", `mask of slice ${sliceIndex} is ${mask.width}×${mask.height}, volume slices are ${nx}×${ny}`);
    }
    const base = sliceIndex * plane;
    for (let p = 0; p < plane; p++) if (mask.data[p]) data[base + p] = label;
  }
  return writeNifti(
    {
      dimsIJK: [nx, ny, nz],
      spacingMm: reference.spacingMm,
      originLPS: reference.originLPS,
      directionLPS: reference.directionLPS,
      unit: "label",
      data,
    },
    { gzip: options.gzip ?? true, intentCode: NIFTI_INTENT_LABEL, description: "coinseg label map" },
  );
}
