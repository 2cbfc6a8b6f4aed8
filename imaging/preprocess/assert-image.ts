// Shape checks shared by the preprocessing, mask, metric and render functions.
import { ImagingError } from "../errors/imaging-error.ts";

/** Largest image (pixels) the 2D helpers accept: 16384 × 16384. */
export const MAX_IMAGE_PIXELS = 16384 * 16384;

/**
 * Checks that `image` is a well-formed row-major 2D image: positive integer `width` and `height`,
 * at most {@link MAX_IMAGE_PIXELS} pixels, and `data.length === width * height`.
 *
 * @param image the image to check (any typed or plain array of numbers)
 * @param name how the argument is called in error messages
 * @throws ImagingError INVALID_ARGUMENT on a bad size or a length mismatch;
 *   IMAGING_TOO_LARGE when the image exceeds {@link MAX_IMAGE_PIXELS}.
 */
export function assertImage2D(
  image: { readonly width: number; readonly height: number; readonly data: ArrayLike<number> },
  name = "image",
): void {
  assertImageSize(image.width, image.height, name);
  if (image.data.length !== image.width * image.height) {
    throw new ImagingError(
      "INVALID_ARGUMENT",
      `${name} has ${image.data.length} pixels, but ${image.width}×${image.height} = ${image.width * image.height}`,
    );
  }
}

/**
 * Checks a requested image size (pixels): positive integers whose product is at most
 * {@link MAX_IMAGE_PIXELS}.
 *
 * @throws ImagingError INVALID_ARGUMENT for non-integer or non-positive sizes;
 *   IMAGING_TOO_LARGE when width × height exceeds {@link MAX_IMAGE_PIXELS}.
 */
export function assertImageSize(width: number, height: number, name = "image"): void {
  if (!Number.isInteger(width) || !Number.isInteger(height) || width < 1 || height < 1) {
    throw new ImagingError("INVALID_ARGUMENT", `${name} size ${width}×${height} is not a positive integer size`);
  }
  if (width * height > MAX_IMAGE_PIXELS) {
    throw new ImagingError("IMAGING_TOO_LARGE", `${name} size ${width}×${height} exceeds ${MAX_IMAGE_PIXELS} pixels`);
  }
}
