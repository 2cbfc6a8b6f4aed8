// RISE's random masks (Petsiuk et al. 2018), generated once per (size, N, s, p1, seed) and reused.
import { resizeBilinear } from "../../imaging/preprocess/bilinear-resize.ts";
import { Prng } from "../../imaging/random/prng.ts";
import { InferenceError } from "../errors/inference-error.ts";

/** Parameters that fully determine a RISE mask set. */
export interface RiseMaskParams {
  /** Model input size in pixels. */
  readonly height: number;
  readonly width: number;
  /** Number of masks N (default 6000 in the methods). */
  readonly n: number;
  /** Grid cells per side s (default 8). */
  readonly s: number;
  /** P(cell = 1) p1 (default 0.1). */
  readonly p1: number;
  /** PRNG seed (imaging/random/prng.ts, stream 0). */
  readonly seed: number;
}

/** Largest mask set held in memory: 2^28 float32 values (1 GiB). */
const MAX_MASK_VALUES = 2 ** 28;

/**
 * Generates N RISE masks, float32 [N, H, W] row-major, each in [0, 1]:
 *
 * for mask i, draw s·s cells `u < p1` (row-major, from one sfc32 Prng(seed, 0)), then the shift
 * `dy = int(0, cellH − 1)`, `dx = int(0, cellW − 1)` with `cellH = ceil(H / s)`, `cellW = ceil(W / s)`;
 * resize the s × s grid bilinearly (half-pixel centres, no antialiasing, edge replicated — PyTorch's
 * `interpolate(align_corners=False)`) to `(s+1)·cellH × (s+1)·cellW` and crop `[dy : dy+H, dx : dx+W]`.
 * This is the published recipe (random shift of an upsampled grid); test/fixtures/make_tiny_models.py
 * implements the same draws in Python for the reference.
 *
 * @throws InferenceError INVALID_METHOD_INPUT for N < 1, s < 1, p1 outside (0, 1], or a set larger
 *   than 2^28 values.
 */
export function generateRiseMasks(params: RiseMaskParams): Float32Array {
  const { height, width, n, s, p1, seed } = params;
  if (!Number.isInteger(n) || n < 1) throw new InferenceError("INVALID_METHOD_INPUT", `RISE N ${n} must be a positive integer`);
  if (!Number.isInteger(s) || s < 1) throw new InferenceError("INVALID_METHOD_INPUT", `RISE s ${s} must be a positive integer`);
  if (!(p1 > 0 && p1 <= 1)) throw new InferenceError("INVALID_METHOD_INPUT", `RISE p1 ${p1} must lie in (0, 1]`);
  if (!Number.isInteger(height) || !Number.isInteger(width) || height < 1 || width < 1) {
    throw new InferenceError("INVALID_METHOD_INPUT", `RISE size ${height}×${width} is not a positive integer size`);
  }
  const plane = height * width;
  if (n * plane > MAX_MASK_VALUES) throw new InferenceError("INVALID_METHOD_INPUT", `RISE N ${n} at ${height}×${width} needs too much memory`);
  const rng = new Prng(seed, 0);
  const cellH = Math.ceil(height / s);
  const cellW = Math.ceil(width / s);
  const upH = (s + 1) * cellH;
  const upW = (s + 1) * cellW;
  const grid = new Float32Array(s * s);
  const up = new Float32Array(upH * upW);
  const masks = new Float32Array(n * plane);
  for (let i = 0; i < n; i++) {
    for (let c = 0; c < s * s; c++) grid[c] = rng.next() < p1 ? 1 : 0;
    const dy = rng.int(0, cellH - 1);
    const dx = rng.int(0, cellW - 1);
    resizeBilinear({ width: s, height: s, data: grid }, upH, upW, up);
    for (let r = 0; r < height; r++) {
      const src = (r + dy) * upW + dx;
      masks.set(up.subarray(src, src + width), i * plane + r * width);
    }
  }
  return masks;
}
