// A saliency or difference map turned into a binary mask by a strict threshold.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertImageSize } from "../preprocess/assert-image.ts";
import type { BinaryMask } from "./binary-mask.ts";

/** The saliency threshold of DESIGN.md §1 (on a min-max normalised map). */
export const DEFAULT_SALIENCY_THRESHOLD = 0.975;

/**
 * `mask = map > threshold` (strictly greater), pixel by pixel. Used for saliency maps (normalised to
 * [0, 1] by `minMaxNormalize`, threshold 0.975) and for COIN's difference map (threshold 0.25).
 * For a Float32Array map the threshold is first rounded to float32, as PyTorch and NumPy do when a
 * float32 tensor is compared with a Python float (so a value of exactly float32(0.975) is not > 0.975).
 *
 * @param map row-major values, `width·height` of them
 * @param width columns
 * @param height rows
 * @param threshold default {@link DEFAULT_SALIENCY_THRESHOLD}
 * @throws ImagingError INVALID_ARGUMENT for a size mismatch or a non-finite threshold.
 */
export function thresholdMap(
  map: ArrayLike<number>,
  width: number,
  height: number,
  threshold: number = DEFAULT_SALIENCY_THRESHOLD,
): BinaryMask {
  assertImageSize(width, height, "map");
  if (map.length !== width * height) {
    throw new ImagingError("INVALID_ARGUMENT", `map has ${map.length} values, expected ${width}×${height}`);
  }
  if (!Number.isFinite(threshold)) throw new ImagingError("INVALID_ARGUMENT", `threshold ${threshold} is not finite`);
  const t = map instanceof Float32Array ? Math.fround(threshold) : threshold;
  const data = new Uint8Array(map.length);
  for (let p = 0; p < data.length; p++) data[p] = map[p]! > t ? 1 : 0;
  return { width, height, data };
}
