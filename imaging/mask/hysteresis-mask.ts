// Hysteresis thresholding on binary masks: keep the weak regions that hold a strong pixel.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";
import { floodFill8 } from "./flood-fill-8.ts";

/**
 * Hysteresis (as in Canny's edge tracking): the 8-connected components of `weak ∪ strong` that hold
 * at least one `strong` pixel. With `strong = map > t` and `weak = map > tLow` (tLow ≤ t) this grows
 * the thresholded mask into every pixel above the lower threshold that it is connected to, and drops
 * weak regions that never reach the upper one. An empty `strong` gives an empty mask.
 *
 * @param weak the lower threshold's mask
 * @param strong the upper threshold's mask, same size
 * @returns a new 0/1 mask
 * @throws ImagingError INVALID_ARGUMENT when a mask is malformed or not 0/1, or the sizes differ.
 */
export function hysteresisMask(weak: BinaryMask, strong: BinaryMask): BinaryMask {
  assertBinaryMask(weak, "weak");
  assertBinaryMask(strong, "strong");
  const { width, height } = weak;
  if (strong.width !== width || strong.height !== height) {
    throw new ImagingError("INVALID_ARGUMENT", `strong mask is ${strong.width}×${strong.height}, weak is ${width}×${height}`);
  }
  const n = width * height;
  const out = new Uint8Array(n);
  const queue = new Int32Array(n);
  let tail = 0;
  // Breadth-first flood from every strong pixel through weak ∪ strong; `out` marks what is reached.
  for (let p = 0; p < n; p++) {
    if (strong.data[p]) {
      out[p] = 1;
      queue[tail++] = p;
    }
  }
  floodFill8(width, height, queue, tail, (q) => out[q] === 0 && (weak.data[q] === 1 || strong.data[q] === 1), (q) => {
    out[q] = 1;
  });
  return { width, height, data: out };
}
