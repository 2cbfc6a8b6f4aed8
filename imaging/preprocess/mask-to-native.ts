// A model-size mask mapped back onto the native slice grid (nearest neighbour, half-pixel centres).
import type { Image2D } from "../volume.ts";
import { assertImage2D, assertImageSize } from "./assert-image.ts";

/**
 * Resamples a model-size label mask to the native slice size by nearest neighbour with half-pixel
 * centres, i.e. PyTorch's `F.interpolate(mask, size=(heightNative, widthNative), mode="nearest-exact")`:
 *
 * native pixel (r, c) takes the value of model pixel
 * `(min(floor((r + 0.5) · H / heightNative), H − 1), min(floor((c + 0.5) · W / widthNative), W − 1))`,
 * where H × W is the model-size mask. Both grids cover the same field of view edge to edge (the
 * convention of the bilinear forward resize), so no shift is introduced in either direction.
 *
 * Note: this is NOT PyTorch's legacy `mode="nearest"` (which uses `floor(r · H / heightNative)` and
 * shifts by half a pixel).
 *
 * @param mask model-size mask (any label values are copied through; usually 0/1)
 * @param heightNative native slice height in pixels (rows, j)
 * @param widthNative native slice width in pixels (columns, i)
 * @returns a new Uint8Array mask of the native size
 * @throws ImagingError INVALID_ARGUMENT for malformed sizes; IMAGING_TOO_LARGE above the 2D size limit.
 */
export function maskToNative(mask: Image2D<Uint8Array>, heightNative: number, widthNative: number): Image2D<Uint8Array> {
  assertImage2D(mask, "mask");
  assertImageSize(widthNative, heightNative, "native size");
  const { width: w, height: h, data: src } = mask;
  const cols = new Int32Array(widthNative);
  for (let c = 0; c < widthNative; c++) cols[c] = Math.min(Math.floor(((c + 0.5) * w) / widthNative), w - 1);
  const data = new Uint8Array(heightNative * widthNative);
  for (let r = 0; r < heightNative; r++) {
    const srcRow = Math.min(Math.floor(((r + 0.5) * h) / heightNative), h - 1) * w;
    const dstRow = r * widthNative;
    for (let c = 0; c < widthNative; c++) data[dstRow + c] = src[srcRow + cols[c]!]!;
  }
  return { width: widthNative, height: heightNative, data };
}
