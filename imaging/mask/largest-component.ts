// Keep only the largest 8-connected foreground component of a mask.
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";
import { floodFill8 } from "./flood-fill-8.ts";

/**
 * Returns a new mask holding only the largest 8-connected component of the foreground (pixels
 * touching by an edge or a corner belong together). Ties go to the component whose first pixel in
 * row-major order comes first, so the result is deterministic. An empty mask returns an empty mask.
 *
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function largestComponent8(mask: BinaryMask): BinaryMask {
  assertBinaryMask(mask);
  const { width, height, data } = mask;
  const n = data.length;
  const labels = new Int32Array(n); // 0 = unvisited/background, k ≥ 1 = component k
  const queue = new Int32Array(n);
  let bestLabel = 0;
  let bestSize = 0;
  let label = 0;
  for (let seed = 0; seed < n; seed++) {
    if (!data[seed] || labels[seed]) continue;
    label++;
    queue[0] = seed;
    labels[seed] = label;
    const current = label;
    const tail = floodFill8(width, height, queue, 1, (q) => data[q] === 1 && labels[q] === 0, (q) => {
      labels[q] = current;
    });
    if (tail > bestSize) {
      bestSize = tail;
      bestLabel = label;
    }
  }
  const out = new Uint8Array(n);
  if (bestLabel > 0) for (let p = 0; p < n; p++) out[p] = labels[p] === bestLabel ? 1 : 0;
  return { width, height, data: out };
}
