// Keeps generated RISE mask sets so every slice (and every job) with the same parameters reuses them.
import { generateRiseMasks, type RiseMaskParams } from "./rise-masks.ts";

/**
 * A small cache of RISE mask sets keyed by (H, W, N, s, p1, seed). Holds at most `capacity` sets
 * (least recently used evicted; default 1: a N = 6000 set at 128 × 128 is 393 MB).
 */
export class RiseMaskCache {
  private readonly sets = new Map<string, Float32Array>();
  /** Number of sets generated so far (a cache miss each). */
  generated = 0;

  constructor(private readonly capacity = 1) {}

  /** The masks for `params` ([N, H, W] float32), generating them on the first request. */
  get(params: RiseMaskParams): Float32Array {
    const key = [params.height, params.width, params.n, params.s, params.p1, params.seed].join("|");
    let masks = this.sets.get(key);
    if (masks) {
      this.sets.delete(key);
      this.sets.set(key, masks);
      return masks;
    }
    masks = generateRiseMasks(params);
    this.generated++;
    this.sets.set(key, masks);
    while (this.sets.size > this.capacity) this.sets.delete(this.sets.keys().next().value!);
    return masks;
  }
}
