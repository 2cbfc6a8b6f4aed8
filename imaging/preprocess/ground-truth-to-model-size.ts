// Ground-truth masks brought to model size the way training does it: bilinear resize of {0,1}, then >= 0.5.
import type { Image2D } from "../volume.ts";
import { resizeBilinear } from "./bilinear-resize.ts";

/**
 * Resizes a native-size ground-truth mask to the model size: every nonzero pixel counts as 1, the
 * {0, 1} image is resized with {@link resizeBilinear} (half-pixel centres, no antialiasing) and the
 * result thresholded at `>= 0.5` (docs/DATASET.md "Preprocessing").
 *
 * @param mask native mask (nonzero = target)
 * @param heightOut model height in pixels
 * @param widthOut model width in pixels
 * @returns a new 0/1 mask of `heightOut × widthOut`
 * @throws ImagingError INVALID_ARGUMENT / IMAGING_TOO_LARGE as {@link resizeBilinear}.
 */
export function groundTruthToModelSize(mask: Image2D<Uint8Array>, heightOut: number, widthOut: number): Image2D<Uint8Array> {
  const binary = new Float32Array(mask.data.length);
  for (let p = 0; p < binary.length; p++) binary[p] = mask.data[p] !== 0 ? 1 : 0;
  const resized = resizeBilinear({ width: mask.width, height: mask.height, data: binary }, heightOut, widthOut);
  const data = new Uint8Array(resized.data.length);
  for (let p = 0; p < data.length; p++) data[p] = resized.data[p]! >= 0.5 ? 1 : 0;
  return { width: widthOut, height: heightOut, data };
}
