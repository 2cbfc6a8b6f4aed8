// Intensity windowing: HU clipped to a window and mapped linearly onto [-1, 1].
import { ImagingError } from "../errors/imaging-error.ts";

/**
 * Clips HU values to `windowHU = [low, high]` and maps them linearly to [−1, 1]:
 * `y = (clip(x, low, high) − low) / (high − low) · 2 − 1`, evaluated in float32 one operation at a
 * time exactly as the training code's `(hu.clamp(low, high) - low) / (high - low) * 2.0 - 1.0` on a
 * float32 tensor (bit-identical to torch 2.13 on every integer HU in −1100..3099, integer and
 * fractional windows).
 *
 * @param hu intensities in Hounsfield units (any length; typically a row-major slice)
 * @param windowHU [low, high] in HU, finite, low < high
 * @param out optional destination (length ≥ `hu.length`), written from index `outOffset`
 * @param outOffset first index written in `out` (default 0)
 * @returns `out` (or a new Float32Array of `hu.length`)
 * @throws ImagingError INVALID_ARGUMENT for a bad window, a too-short `out`, or a NaN input value.
 */
export function windowToUnitRange(
  hu: ArrayLike<number>,
  windowHU: readonly [number, number],
  out: Float32Array = new Float32Array(hu.length),
  outOffset = 0,
): Float32Array {
  const [low, high] = windowHU;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new ImagingError("INVALID_ARGUMENT", `window [${low}, ${high}] HU needs finite low < high`);
  }
  if (!Number.isInteger(outOffset) || outOffset < 0 || outOffset + hu.length > out.length) {
    throw new ImagingError("INVALID_ARGUMENT", "output buffer too short for the windowed values");
  }
  const f = Math.fround;
  // torch turns the Python-float scalars into float32 before each elementwise op.
  const low32 = f(low);
  const high32 = f(high);
  const range32 = f(high - low);
  const n = hu.length;
  for (let p = 0; p < n; p++) {
    const v = f(hu[p]!);
    if (v !== v) throw new ImagingError("INVALID_ARGUMENT", `NaN intensity at index ${p}`);
    const c = v < low32 ? low32 : v > high32 ? high32 : v;
    out[outOffset + p] = f(f(f(c - low32) / range32) * 2) - 1;
  }
  return out;
}
