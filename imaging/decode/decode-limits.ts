// Size limits every decoder enforces before it allocates, so hostile input cannot exhaust memory.
import { ImagingError } from "../errors/imaging-error.ts";

/** Limits a decoder enforces; exceeding one throws IMAGING_TOO_LARGE. */
export interface DecodeLimits {
  /** Most input bytes accepted (per file, and after decompression for gzip/deflate). */
  readonly maxBytes: number;
  /** Most voxels in the decoded volume (nx × ny × nz). */
  readonly maxVoxels: number;
  /** Most files (DICOM slices) or frames assembled into one volume. */
  readonly maxSlices: number;
}

/**
 * Defaults: 1 GiB of input, 2^28 voxels (512 × 512 × 1024; 512 MiB as int16, 1 GiB as float32),
 * 4096 slices.
 */
export const DEFAULT_DECODE_LIMITS: DecodeLimits = Object.freeze({
  maxBytes: 2 ** 30,
  maxVoxels: 2 ** 28,
  maxSlices: 4096,
});

/**
 * Fills unset limits with {@link DEFAULT_DECODE_LIMITS} and validates them.
 * @throws ImagingError INVALID_ARGUMENT when a limit is not a positive integer.
 */
export function resolveDecodeLimits(limits: Partial<DecodeLimits> = {}): DecodeLimits {
  const resolved = { ...DEFAULT_DECODE_LIMITS, ...limits };
  for (const [key, value] of Object.entries(resolved)) {
    if (!Number.isSafeInteger(value) || value <= 0) {
      throw new ImagingError("INVALID_ARGUMENT", `decode limit ${key} must be a positive integer, got ${String(value)}`);
    }
  }
  return resolved;
}
