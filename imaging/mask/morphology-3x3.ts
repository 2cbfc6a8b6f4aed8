// Binary erosion, dilation, opening and closing with a 3×3 square structuring element.
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

// Border convention for all four: the mask is taken to continue as background beyond the image
// (exact morphology on the infinite plane, restricted to the image). Equivalently, in Python:
// pad the mask with 2 background pixels, apply scipy.ndimage.binary_erosion / binary_dilation /
// binary_opening / binary_closing with structure=np.ones((3, 3)), and crop the padding off.
// So erosion eats foreground at the image edge, opening never adds pixels, and closing never
// removes pixels nor grows a frame along the image border.

/**
 * 3×3 binary erosion: a pixel stays 1 iff all 9 pixels of its 3×3 neighbourhood are 1 (pixels
 * outside the image count as 0). Returns a new mask of the same size.
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function erode3x3(mask: BinaryMask): BinaryMask {
  assertBinaryMask(mask);
  return filter3x3(mask, true);
}

/**
 * 3×3 binary dilation: a pixel becomes 1 iff any pixel of its 3×3 neighbourhood is 1.
 * Returns a new mask of the same size.
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function dilate3x3(mask: BinaryMask): BinaryMask {
  assertBinaryMask(mask);
  return filter3x3(mask, false);
}

/**
 * 3×3 binary opening = dilate(erode(mask)): removes specks and spurs narrower than 3 px; never
 * adds pixels. Returns a new mask of the same size.
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function open3x3(mask: BinaryMask): BinaryMask {
  assertBinaryMask(mask);
  return filter3x3(filter3x3(mask, true), false);
}

/**
 * 3×3 binary closing = erode(dilate(mask)) computed on the mask padded by one background pixel
 * (so the dilation may spill past the image edge before eroding back): fills holes and gaps
 * narrower than 3 px; never removes pixels. Returns a new mask of the same size.
 * @throws ImagingError INVALID_ARGUMENT when the mask is malformed or not 0/1.
 */
export function close3x3(mask: BinaryMask): BinaryMask {
  assertBinaryMask(mask);
  const { width, height, data } = mask;
  const pw = width + 2;
  const padded = new Uint8Array(pw * (height + 2));
  for (let r = 0; r < height; r++) padded.set(data.subarray(r * width, (r + 1) * width), (r + 1) * pw + 1);
  const closed = filter3x3(filter3x3({ width: pw, height: height + 2, data: padded }, false), true);
  const out = new Uint8Array(width * height);
  for (let r = 0; r < height; r++) out.set(closed.data.subarray((r + 1) * pw + 1, (r + 1) * pw + 1 + width), r * width);
  return { width, height, data: out };
}

/** Separable 3×3 min (erode) or max (dilate): rows first, then columns; outside pixels are 0. */
function filter3x3(mask: BinaryMask, erode: boolean): BinaryMask {
  const { width, height, data } = mask;
  const tmp = new Uint8Array(data.length);
  const out = new Uint8Array(data.length);
  if (erode) {
    for (let r = 0; r < height; r++) {
      const base = r * width;
      for (let c = 0; c < width; c++) {
        tmp[base + c] = c > 0 && c < width - 1 ? data[base + c - 1]! & data[base + c]! & data[base + c + 1]! : 0;
      }
    }
    for (let r = 0; r < height; r++) {
      const base = r * width;
      for (let c = 0; c < width; c++) {
        out[base + c] = r > 0 && r < height - 1 ? tmp[base - width + c]! & tmp[base + c]! & tmp[base + width + c]! : 0;
      }
    }
  } else {
    for (let r = 0; r < height; r++) {
      const base = r * width;
      for (let c = 0; c < width; c++) {
        let v = data[base + c]!;
        if (c > 0) v |= data[base + c - 1]!;
        if (c < width - 1) v |= data[base + c + 1]!;
        tmp[base + c] = v;
      }
    }
    for (let r = 0; r < height; r++) {
      const base = r * width;
      for (let c = 0; c < width; c++) {
        let v = tmp[base + c]!;
        if (r > 0) v |= tmp[base - width + c]!;
        if (r < height - 1) v |= tmp[base + width + c]!;
        out[base + c] = v;
      }
    }
  }
  return { width, height, data: out };
}
