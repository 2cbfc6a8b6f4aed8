// Keep only the largest 8-connected foreground component of a mask.
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

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
    let head = 0;
    let tail = 0;
    queue[tail++] = seed;
    labels[seed] = label;
    while (head < tail) {
      const p = queue[head++]!;
      const r = (p / width) | 0;
      const c = p - r * width;
      const r0 = r > 0 ? r - 1 : 0;
      const r1 = r < height - 1 ? r + 1 : r;
      const c0 = c > 0 ? c - 1 : 0;
      const c1 = c < width - 1 ? c + 1 : c;
      for (let rr = r0; rr <= r1; rr++) {
        for (let cc = c0; cc <= c1; cc++) {
          const q = rr * width + cc;
          if (data[q] && !labels[q]) {
            labels[q] = label;
            queue[tail++] = q;
          }
        }
      }
    }
    if (tail > bestSize) {
      bestSize = tail;
      bestLabel = label;
    }
  }
  const out = new Uint8Array(n);
  if (bestLabel > 0) for (let p = 0; p < n; p++) out[p] = labels[p] === bestLabel ? 1 : 0;
  return { width, height, data: out };
}
