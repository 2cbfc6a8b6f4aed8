// PNG rendering of a CT slice in a display window with a mask (and optionally ground truth) blended on top.
import { PNG } from "pngjs";
import { ImagingError } from "../errors/imaging-error.ts";
import { assertBinaryMask, type BinaryMask } from "../mask/binary-mask.ts";
import { assertImage2D } from "../preprocess/assert-image.ts";
import type { Image2D, VoxelArray } from "../volume.ts";

/** RGB colours of the overlay classes. */
export const OVERLAY_COLOURS = {
  /** Predicted mask when there is no ground truth. */
  mask: [0, 200, 255],
  /** Predicted and true (ground truth given). */
  truePositive: [0, 255, 0],
  /** Predicted, not true. */
  falsePositive: [255, 0, 0],
  /** True, missed. */
  falseNegative: [255, 255, 0],
} as const;

/** Inputs of {@link renderMaskOverlayPng}. All images share one grid (same width and height). */
export interface MaskOverlayInput {
  /** The slice in HU, row-major (row = j, column = i). */
  readonly slice: Image2D<VoxelArray | Float64Array>;
  /** Display window [low, high] in HU: low → black, high → white (e.g. [−160, 240]). */
  readonly windowHU: readonly [number, number];
  /** The predicted mask (optional: without it, only the grey slice is drawn). */
  readonly mask?: BinaryMask;
  /** Ground truth; when given, pixels are coloured TP green, FP red, FN yellow. */
  readonly groundTruth?: BinaryMask;
  /** Opacity of the colours in [0, 1]; default 0.5. */
  readonly alpha?: number;
}

/**
 * Renders an 8-bit RGB PNG (colour type 2): the slice mapped linearly from `windowHU` to grey
 * 0–255 (clipped), with mask pixels blended as `(1 − alpha)·grey + alpha·colour` in the
 * {@link OVERLAY_COLOURS}. With ground truth: true positives green, false positives red, false
 * negatives yellow; true negatives stay grey. Without ground truth every mask pixel is cyan.
 *
 * @returns the PNG file bytes
 * @throws ImagingError INVALID_ARGUMENT for malformed images, mismatched sizes, a bad window or
 *   an alpha outside [0, 1]; IMAGING_TOO_LARGE above the 2D size limit.
 */
export function renderMaskOverlayPng(input: MaskOverlayInput): Uint8Array {
  const { slice, windowHU, mask, groundTruth } = input;
  const alpha = input.alpha ?? 0.5;
  assertImage2D(slice, "slice");
  const [low, high] = windowHU;
  if (!Number.isFinite(low) || !Number.isFinite(high) || !(low < high)) {
    throw new ImagingError("INVALID_ARGUMENT", `display window [${low}, ${high}] HU needs finite low < high`);
  }
  if (!(alpha >= 0 && alpha <= 1)) throw new ImagingError("INVALID_ARGUMENT", `alpha ${alpha} must lie in [0, 1]`);
  for (const [name, m] of [["mask", mask], ["ground truth", groundTruth]] as const) {
    if (m === undefined) continue;
    assertBinaryMask(m, name);
    if (m.width !== slice.width || m.height !== slice.height) {
      throw new ImagingError("INVALID_ARGUMENT", `${name} ${m.width}×${m.height} does not match slice ${slice.width}×${slice.height}`);
    }
  }

  const { width, height, data } = slice;
  const png = new PNG({ width, height, colorType: 2, inputColorType: 6, inputHasAlpha: true });
  const rgba = png.data;
  const range = high - low;
  for (let p = 0; p < width * height; p++) {
    const v = data[p]!;
    const grey = v !== v ? 0 : Math.round((((v < low ? low : v > high ? high : v) - low) * 255) / range);
    let colour: readonly [number, number, number] | undefined;
    const predicted = mask !== undefined && mask.data[p] === 1;
    if (groundTruth !== undefined) {
      const truth = groundTruth.data[p] === 1;
      if (predicted && truth) colour = OVERLAY_COLOURS.truePositive;
      else if (predicted) colour = OVERLAY_COLOURS.falsePositive;
      else if (truth) colour = OVERLAY_COLOURS.falseNegative;
    } else if (predicted) {
      colour = OVERLAY_COLOURS.mask;
    }
    const o = 4 * p;
    if (colour === undefined) {
      rgba[o] = grey;
      rgba[o + 1] = grey;
      rgba[o + 2] = grey;
    } else {
      rgba[o] = Math.round((1 - alpha) * grey + alpha * colour[0]);
      rgba[o + 1] = Math.round((1 - alpha) * grey + alpha * colour[1]);
      rgba[o + 2] = Math.round((1 - alpha) * grey + alpha * colour[2]);
    }
    rgba[o + 3] = 255;
  }
  return new Uint8Array(PNG.sync.write(png, { colorType: 2, inputColorType: 6, inputHasAlpha: true }));
}
