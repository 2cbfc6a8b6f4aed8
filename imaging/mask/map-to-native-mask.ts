// A model-size difference or saliency map turned into a mask on the native slice grid.
import { resizeBilinear } from "../preprocess/bilinear-resize.ts";
import type { Image2D } from "../volume.ts";
import type { BinaryMask } from "./binary-mask.ts";
import { thresholdMap } from "./threshold-map.ts";

/**
 * `mask = bilinear(map → heightNative × widthNative) > threshold`: the map is upsampled to the native
 * grid with the preprocessing's bilinear rule (half-pixel centres, PyTorch's
 * `F.interpolate(map, size, mode="bilinear", align_corners=False)`) and thresholded there (strictly,
 * as {@link thresholdMap}).
 *
 * Why not threshold at model size and copy pixels (`maskToNative`): a model pixel covers 2 × 2 native
 * pixels at 128 → 256, so a mask copied by nearest neighbour can only follow the target's outline in
 * steps of two native pixels. The interpolated map crosses the threshold between model pixels, so the
 * native outline is placed to the native pixel. Measured on the kidney-blob val split (542
 * ground-truth-positive slices, README "Results"): COIN pooled IoU against the native ground truth
 * 0.540 copied, 0.564 interpolated; the oracle 0.823 and 0.911.
 *
 * Only the native pixels near model pixels above `threshold − margin` are interpolated: an
 * interpolated value is a convex combination of its four source pixels, so elsewhere it stays below
 * the threshold (the margin, 1e-5 of max(1, |threshold|), covers float32 rounding). Same result as
 * interpolating everything, at a fraction of the cost for a small mask.
 *
 * @param map model-size map (row-major, `width · height` values; [0, 1] for difference and
 *   normalised saliency maps)
 * @param heightNative native slice height in pixels (rows, j)
 * @param widthNative native slice width in pixels (columns, i)
 * @param threshold the method's threshold on the map (0.25 difference, 0.975 saliency)
 * @returns a new native-size 0/1 mask
 * @throws ImagingError INVALID_ARGUMENT for malformed sizes or a non-finite threshold;
 *   IMAGING_TOO_LARGE above the 2D size limit.
 */
export function mapToNativeMask(map: Image2D<Float32Array>, heightNative: number, widthNative: number, threshold: number): BinaryMask {
  const { width, height, data } = map;
  const near = threshold - 1e-5 * Math.max(1, Math.abs(threshold));
  let top = height;
  let bottom = -1;
  let left = width;
  let right = -1;
  if (data.length === width * height) {
    for (let y = 0; y < height; y++) {
      for (let x = 0; x < width; x++) {
        if (!(data[y * width + x]! <= near)) {
          // NaN counts as near: the full computation decides what it gives.
          if (y < top) top = y;
          if (y > bottom) bottom = y;
          if (x < left) left = x;
          if (x > right) right = x;
        }
      }
    }
  }
  // Native pixels whose source coordinate lies within one model pixel of the box (taps are the
  // floor and the next pixel), with a native pixel to spare on each side.
  const toNative = (v: number, sizeIn: number, sizeOut: number): number => ((v + 0.5) * sizeOut) / sizeIn - 0.5;
  const window =
    bottom < 0
      ? { rowStart: 0, rowEnd: 0, colStart: 0, colEnd: 0 }
      : {
          rowStart: Math.floor(toNative(top - 1, height, heightNative)) - 1,
          rowEnd: Math.ceil(toNative(bottom + 1, height, heightNative)) + 2,
          colStart: Math.floor(toNative(left - 1, width, widthNative)) - 1,
          colEnd: Math.ceil(toNative(right + 1, width, widthNative)) + 2,
        };
  const native = resizeBilinear(map, heightNative, widthNative, undefined, 0, window);
  return thresholdMap(native.data, widthNative, heightNative, threshold);
}
