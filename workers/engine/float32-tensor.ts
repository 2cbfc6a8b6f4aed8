// The tensor type exchanged with inference engines.

/**
 * A dense float32 tensor in row-major (C) order. `dims` are concrete sizes, e.g. [N, 1, H, W]
 * for an NCHW image batch or [N] for a per-sample condition; `data.length` is their product.
 */
export interface Float32Tensor {
  readonly data: Float32Array;
  readonly dims: readonly number[];
}

/** Number of elements of a tensor of shape `dims`. */
export function elementCount(dims: readonly number[]): number {
  return dims.reduce((a, b) => a * b, 1);
}
