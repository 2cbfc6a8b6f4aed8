// HU slices → the batched float32 NCHW tensor a model takes, driven only by the model's preprocess spec.
import { ImagingError } from "../errors/imaging-error.ts";
import type { Image2D, VoxelArray } from "../volume.ts";
import { assertImage2D } from "./assert-image.ts";
import { resizeBilinear } from "./bilinear-resize.ts";
import type { PreprocessSpec } from "./preprocess-spec.ts";
import { windowToUnitRange } from "./window-to-unit-range.ts";

/** A float32 tensor in NCHW order (C = 1): sample n, pixel (row, col) at `data[n·H·W + row·W + col]`. */
export interface ModelInputBatch {
  readonly data: Float32Array;
  /** [N, 1, H, W]. */
  readonly shape: readonly [number, 1, number, number];
}

/**
 * Turns native axial slices (row-major, values in HU) into one model input tensor, in order:
 * HU → clip to `spec.windowHU` → map to [−1, 1] → bilinear resize (half-pixel centres, no
 * antialiasing) to `spec.size` = [H, W]. This is docs/DATASET.md "Preprocessing", identical to the
 * Python training code. Slices may have different native sizes; each is resized independently.
 *
 * @param slices one or more images in HU (pixel (row, col) at `data[row·width + col]`; row = j, col = i)
 * @param spec the model's preprocess spec (validated with `parsePreprocessSpec`)
 * @returns the [N, 1, H, W] float32 batch
 * @throws ImagingError INVALID_ARGUMENT for an empty list, a malformed slice, a NaN intensity or a bad
 *   spec; IMAGING_TOO_LARGE when a slice or the batch exceeds the size limits.
 */
export function preprocessSlices(
  slices: readonly Image2D<VoxelArray | Float64Array>[],
  spec: PreprocessSpec,
): ModelInputBatch {
  if (slices.length === 0) throw new ImagingError("INVALID_ARGUMENT", "no slices to preprocess");
  const [height, width] = spec.size;
  const plane = height * width;
  if (!Number.isSafeInteger(plane * slices.length) || plane * slices.length > 2 ** 30) {
    throw new ImagingError("IMAGING_TOO_LARGE", `a batch of ${slices.length} × ${height}×${width} is too large`);
  }
  const data = new Float32Array(plane * slices.length);
  slices.forEach((slice, n) => {
    assertImage2D(slice, `slice ${n}`);
    const windowed = scratchOfLength(slice.data.length);
    windowToUnitRange(slice.data, spec.windowHU, windowed);
    resizeBilinear({ width: slice.width, height: slice.height, data: windowed }, height, width, data, n * plane);
  });
  return { data, shape: [slices.length, 1, height, width] };
}

// A reused buffer for the windowed native slice. Freshly allocated megabyte-sized typed arrays
// cost ~3 ms per MB in page faults on the 2-core machines (measured: 8.4 ms vs 0.5 ms for a 512²
// slice), more than the arithmetic. Safe because JavaScript runs this function to completion on
// one thread and the buffer never escapes.
let scratch = new Float32Array(0);
function scratchOfLength(length: number): Float32Array {
  if (scratch.length < length) scratch = new Float32Array(length);
  return scratch.subarray(0, length);
}
