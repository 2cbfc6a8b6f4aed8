// The `preprocess` block of a model's model.json (docs/MODEL-SPEC.md): everything preprocessing needs.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertImageSize } from "./assert-image.ts";

/**
 * How a model wants its input slices prepared (docs/DATASET.md "Preprocessing").
 *
 * - `windowHU` = [low, high] in Hounsfield units, low < high: HU are clipped to it and mapped
 *   linearly so that low → −1 and high → +1.
 * - `size` = [height, width] of the model input in pixels (the H and W of the NCHW tensor).
 * - `resize` names the resampling rule; only `"bilinear-half-pixel"` exists: bilinear with
 *   half-pixel centres (align_corners = false) and no antialiasing.
 */
export interface PreprocessSpec {
  readonly windowHU: readonly [number, number];
  readonly size: readonly [number, number];
  readonly resize: "bilinear-half-pixel";
}

/**
 * Validates an untrusted `preprocess` object (e.g. parsed from model.json) and returns it typed.
 * `resize` may be omitted and defaults to `"bilinear-half-pixel"`.
 *
 * @throws ImagingError INVALID_ARGUMENT when a field is missing, not finite, `low >= high`,
 *   the size is not a positive integer pair, or `resize` names an unknown rule;
 *   IMAGING_TOO_LARGE when the size exceeds the 2D image limit.
 */
export function parsePreprocessSpec(value: unknown): PreprocessSpec {
  if (typeof value !== "object" || value === null) {
    throw new ImagingError("INVALID_ARGUMENT", "preprocess spec must be an object");
  }
  const { windowHU, size, resize } = value as Record<string, unknown>;
  if (!isNumberPair(windowHU) || !Number.isFinite(windowHU[0]) || !Number.isFinite(windowHU[1])) {
    throw new ImagingError("INVALID_ARGUMENT", "preprocess.windowHU must be [low, high] finite numbers");
  }
  if (!(windowHU[0] < windowHU[1])) {
    throw new ImagingError("INVALID_ARGUMENT", `preprocess.windowHU [${windowHU[0]}, ${windowHU[1]}] needs low < high`);
  }
  if (!isNumberPair(size)) {
    throw new ImagingError("INVALID_ARGUMENT", "preprocess.size must be [height, width]");
  }
  assertImageSize(size[1], size[0], "preprocess.size");
  if (resize !== undefined && resize !== "bilinear-half-pixel") {
    throw new ImagingError("INVALID_ARGUMENT", `preprocess.resize ${JSON.stringify(resize)} is not supported`);
  }
  return { windowHU: [windowHU[0], windowHU[1]], size: [size[0], size[1]], resize: "bilinear-half-pixel" };
}

function isNumberPair(v: unknown): v is [number, number] {
  return Array.isArray(v) && v.length === 2 && typeof v[0] === "number" && typeof v[1] === "number";
}
