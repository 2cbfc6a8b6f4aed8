// The COIN mask clean-up: 3×3 opening, 3×3 closing, then the largest 8-connected component.
import type { BinaryMask } from "./binary-mask.ts";
import { largestComponent8 } from "./largest-component.ts";
import { close3x3, open3x3 } from "./morphology-3x3.ts";

/**
 * Optional post-processing of a method's raw mask (DESIGN.md §1): `largestComponent8(close3x3(open3x3(mask)))`.
 * The opening removes isolated specks, the closing fills small holes, and only the largest
 * 8-connected region survives. Border handling as in {@link open3x3}. Returns a new mask.
 *
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function cleanUpMask(mask: BinaryMask): BinaryMask {
  return largestComponent8(close3x3(open3x3(mask)));
}
