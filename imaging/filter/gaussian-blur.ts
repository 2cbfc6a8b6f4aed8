// Separable Gaussian smoothing of a 2D row-major float image (edges clamped).

/**
 * Blurs `src` (width × height, row-major) with an isotropic Gaussian of standard deviation
 * `sigmaPx` pixels, writing into `out` (which may be `src`). Kernel radius = ceil(3σ); image
 * borders are handled by clamping coordinates. σ ≤ 0 copies the input.
 */
export function gaussianBlur2D(
  src: Float32Array,
  width: number,
  height: number,
  sigmaPx: number,
  out: Float32Array = new Float32Array(src.length),
): Float32Array {
  if (src.length !== width * height) throw new RangeError(`image has ${src.length} pixels, expected ${width}×${height}`);
  if (!(sigmaPx > 0)) {
    if (out !== src) out.set(src);
    return out;
  }
  const radius = Math.max(1, Math.ceil(3 * sigmaPx));
  const kernel = new Float32Array(2 * radius + 1);
  let sum = 0;
  for (let t = -radius; t <= radius; t++) {
    const w = Math.exp(-(t * t) / (2 * sigmaPx * sigmaPx));
    kernel[t + radius] = w;
    sum += w;
  }
  for (let t = 0; t < kernel.length; t++) kernel[t]! /= sum;

  const tmp = new Float32Array(src.length);
  for (let y = 0; y < height; y++) {
    const row = y * width;
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = -radius; t <= radius; t++) {
        let xx = x + t;
        if (xx < 0) xx = 0;
        else if (xx >= width) xx = width - 1;
        acc += kernel[t + radius]! * src[row + xx]!;
      }
      tmp[row + x] = acc;
    }
  }
  for (let y = 0; y < height; y++) {
    for (let x = 0; x < width; x++) {
      let acc = 0;
      for (let t = -radius; t <= radius; t++) {
        let yy = y + t;
        if (yy < 0) yy = 0;
        else if (yy >= height) yy = height - 1;
        acc += kernel[t + radius]! * tmp[yy * width + x]!;
      }
      out[y * width + x] = acc;
    }
  }
  return out;
}
