// Feature maps (C × h × w, e.g. a CAM target layer) upsampled to image size for saliency methods.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertImageSize } from "./assert-image.ts";
import { resizeBilinear } from "./bilinear-resize.ts";

/**
 * Upsamples each channel of a stack of feature maps to `heightOut × widthOut` with the same bilinear,
 * half-pixel-centre, no-antialias rule as the model input ({@link resizeBilinear}, i.e. PyTorch's
 * `F.interpolate(a, size, mode="bilinear", align_corners=False)`), as ScoreCAM and LayerCAM do.
 *
 * @param maps channel-major float32 data: channel k, pixel (row, col) at `maps[k·h·w + row·w + col]`
 * @param channels number of channels C (≥ 1)
 * @param heightIn h, feature-map rows
 * @param widthIn w, feature-map columns
 * @param heightOut image rows
 * @param widthOut image columns
 * @returns a new C × heightOut × widthOut float32 array, same channel-major layout
 * @throws ImagingError INVALID_ARGUMENT when `maps.length !== C·h·w` or a size is not a positive
 *   integer; IMAGING_TOO_LARGE when the output would exceed 2^30 values.
 */
export function upsampleFeatureMaps(
  maps: Float32Array,
  channels: number,
  heightIn: number,
  widthIn: number,
  heightOut: number,
  widthOut: number,
): Float32Array {
  assertImageSize(widthIn, heightIn, "feature map");
  assertImageSize(widthOut, heightOut, "upsampled map");
  if (!Number.isInteger(channels) || channels < 1) {
    throw new ImagingError("INVALID_ARGUMENT", `channels ${channels} is not a positive integer`);
  }
  const planeIn = heightIn * widthIn;
  const planeOut = heightOut * widthOut;
  if (maps.length !== channels * planeIn) {
    throw new ImagingError("INVALID_ARGUMENT", `feature maps have ${maps.length} values, expected ${channels}×${heightIn}×${widthIn}`);
  }
  if (channels * planeOut > 2 ** 30) {
    throw new ImagingError("IMAGING_TOO_LARGE", `upsampling ${channels} channels to ${heightOut}×${widthOut} is too large`);
  }
  const out = new Float32Array(channels * planeOut);
  for (let k = 0; k < channels; k++) {
    const plane = maps.subarray(k * planeIn, (k + 1) * planeIn);
    resizeBilinear({ width: widthIn, height: heightIn, data: plane }, heightOut, widthOut, out, k * planeOut);
  }
  return out;
}
