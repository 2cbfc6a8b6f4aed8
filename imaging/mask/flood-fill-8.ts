// Breadth-first flood fill over 8-connected pixels: the traversal both component functions share.

/**
 * Floods from the `queue[0 … tail)` seeds (already marked by the caller) to every 8-connected pixel
 * that `accept` lets in, marking each with `mark` before it is queued; pixels touching by an edge or
 * a corner are neighbours. `queue` must hold `width · height` entries.
 *
 * @returns the queue's final length: the seeds plus every pixel reached.
 */
export function floodFill8(
  width: number,
  height: number,
  queue: Int32Array,
  tail: number,
  accept: (q: number) => boolean,
  mark: (q: number) => void,
): number {
  for (let head = 0; head < tail; head++) {
    const p = queue[head]!;
    const r = (p / width) | 0;
    const c = p - r * width;
    const r0 = r > 0 ? r - 1 : 0;
    const r1 = r < height - 1 ? r + 1 : r;
    const c0 = c > 0 ? c - 1 : 0;
    const c1 = c < width - 1 ? c + 1 : c;
    for (let rr = r0; rr <= r1; rr++) {
      for (let cc = c0; cc <= c1; cc++) {
        const q = rr * width + cc;
        if (accept(q)) {
          mark(q);
          queue[tail++] = q;
        }
      }
    }
  }
  return tail;
}
