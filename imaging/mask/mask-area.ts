// Foreground area of a mask.
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

/**
 * Number of foreground pixels (area in pixels of the mask's grid; multiply by the pixel spacing
 * product for mm²).
 *
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function maskArea(mask: BinaryMask): number {
  assertBinaryMask(mask);
  let area = 0;
  for (const v of mask.data) area += v;
  return area;
}
