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
 * ground-truth-positive slices, training/README.md): COIN pooled IoU against the native ground truth
 * 0.540 copied, 0.564 interpolated; the oracle 0.823 and 0.911.
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
  const native = resizeBilinear(map, heightNative, widthNative);
  return thresholdMap(native.data, widthNative, heightNative, threshold);
}
