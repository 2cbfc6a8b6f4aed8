// COIN's mask rule: diff = |x − x_cf| / 2 on the [0, 1] scale, mask = diff > threshold.
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import type { BinaryMask } from "../../imaging/mask/binary-mask.ts";
import { InferenceError } from "../errors/inference-error.ts";

/** The default COIN / Singla mask threshold (DESIGN.md §1), on the [0, 1] difference scale. */
export const DEFAULT_MASK_THRESHOLD = 0.25;

/**
 * The difference map and mask of one slice (DESIGN.md §1): `diff = |x − x_cf| / 2` (x and x_cf in
 * [−1, 1], so diff is in [0, 1]) and `mask = diff > threshold` (strict; the threshold is rounded to
 * float32 as PyTorch does when comparing a float32 tensor with a Python float).
 * Used for COIN, Singla* and the oracle (x_cf = the clean slice).
 *
 * @param x model input, H × W row-major, [−1, 1]
 * @param xCf counterfactual, same grid
 * @param width W
 * @param height H
 * @param threshold default {@link DEFAULT_MASK_THRESHOLD}
 * @throws InferenceError INVALID_METHOD_INPUT when the lengths differ from W × H.
 */
export function counterfactualMask(
  x: ArrayLike<number>,
  xCf: ArrayLike<number>,
  width: number,
  height: number,
  threshold: number = DEFAULT_MASK_THRESHOLD,
): { diff: Float32Array; mask: BinaryMask } {
  if (x.length !== width * height || xCf.length !== width * height) {
    throw new InferenceError("INVALID_METHOD_INPUT", `x (${x.length}) and x_cf (${xCf.length}) must both have ${width}×${height} values`);
  }
  const diff = new Float32Array(x.length);
  for (let p = 0; p < diff.length; p++) diff[p] = Math.abs(x[p]! - xCf[p]!) / 2;
  return { diff, mask: thresholdMap(diff, width, height, threshold) };
}
