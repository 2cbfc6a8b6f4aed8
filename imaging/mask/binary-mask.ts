// The binary mask type every mask function takes and returns.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertImage2D } from "../preprocess/assert-image.ts";
import type { Image2D } from "../volume.ts";

/**
 * A 2D binary mask, row-major: pixel (row, col) at `data[row·width + col]`, 1 = foreground,
 * 0 = background (label 0 is always background). For a CT slice, row = j and col = i of the
 * volume grid. Functions that produce masks always write exactly 0 or 1.
 */
export type BinaryMask = Image2D<Uint8Array>;

/**
 * Checks that `mask` is a well-formed {@link BinaryMask} whose values are all 0 or 1.
 *
 * @param name how the argument is called in error messages
 * @throws ImagingError INVALID_ARGUMENT for a bad size, a length mismatch, a non-Uint8Array
 *   buffer or a value other than 0/1; IMAGING_TOO_LARGE above the 2D size limit.
 */
export function assertBinaryMask(mask: BinaryMask, name = "mask"): void {
  if (!(mask.data instanceof Uint8Array)) throw new ImagingError("INVALID_ARGUMENT", `${name} data must be a Uint8Array`);
  assertImage2D(mask, name);
  const { data } = mask;
  for (let p = 0; p < data.length; p++) {
    if (data[p]! > 1) throw new ImagingError("INVALID_ARGUMENT", `${name} has value ${data[p]} at index ${p}; expected 0 or 1`);
  }
}
