// Min-max normalisation of a saliency or activation map to [0, 1].
import { ImagingError } from "../errors/imaging-error.ts";

/**
 * Rescales `map` linearly so that its minimum becomes 0 and its maximum 1:
 * `(v − min) / (max − min)`. A constant map (max = min) becomes all zeros (no pixel is salient).
 * Computed in float64, stored as float32. The layout is irrelevant (any flat map).
 *
 * @returns a new Float32Array of the same length
 * @throws ImagingError INVALID_ARGUMENT when the map is empty or contains NaN or ±Infinity.
 */
export function minMaxNormalize(map: ArrayLike<number>): Float32Array {
  const n = map.length;
  if (n === 0) throw new ImagingError("INVALID_ARGUMENT", "cannot normalise an empty map");
  let min = Infinity;
  let max = -Infinity;
  for (let p = 0; p < n; p++) {
    const v = map[p]!;
    if (!Number.isFinite(v)) throw new ImagingError("INVALID_ARGUMENT", `map value ${v} at index ${p} is not finite`);
    if (v < min) min = v;
    if (v > max) max = v;
  }
  const out = new Float32Array(n);
  const range = max - min;
  if (range > 0) for (let p = 0; p < n; p++) out[p] = (map[p]! - min) / range;
  return out;
}
