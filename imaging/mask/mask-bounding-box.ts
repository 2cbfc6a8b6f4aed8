// Tight bounding box of a mask's foreground.
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

/**
 * Inclusive pixel bounds of a mask's foreground, in the mask's own grid: rows `rowMin..rowMax`,
 * columns `colMin..colMax` (row = j, column = i for a CT slice). Width = colMax − colMin + 1.
 */
export interface MaskBoundingBox {
  readonly rowMin: number;
  readonly rowMax: number;
  readonly colMin: number;
  readonly colMax: number;
}

/**
 * The smallest axis-aligned box containing every foreground pixel, or `null` for an empty mask.
 *
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function maskBoundingBox(mask: BinaryMask): MaskBoundingBox | null {
  assertBinaryMask(mask);
  const { width, height, data } = mask;
  let rowMin = height;
  let rowMax = -1;
  let colMin = width;
  let colMax = -1;
  for (let r = 0; r < height; r++) {
    const base = r * width;
    let first = -1;
    let last = -1;
    for (let c = 0; c < width; c++) {
      if (data[base + c]) {
        if (first < 0) first = c;
        last = c;
      }
    }
    if (first < 0) continue;
    if (r < rowMin) rowMin = r;
    rowMax = r;
    if (first < colMin) colMin = first;
    if (last > colMax) colMax = last;
  }
  return rowMax < 0 ? null : { rowMin, rowMax, colMin, colMax };
}
