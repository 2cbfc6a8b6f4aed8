// Decodes an 8- or 16-bit greyscale PNG (one CT slice) into a one-slice Volume.
import { PNG } from "pngjs";
import { ImagingError } from "../errors/imaging-error.ts";
import { resolveDecodeLimits, type DecodeLimits } from "../decode/decode-limits.ts";
import { IDENTITY_DIRECTION_LPS, type Volume } from "../volume.ts";

/** Options for {@link decodePng}. */
export interface PngDecodeOptions {
  /** Size limits; unset fields take the defaults. */
  readonly limits?: Partial<DecodeLimits>;
}

const SIGNATURE = [0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a];

/** True when the bytes start with the PNG signature. */
export function looksLikePng(bytes: Uint8Array): boolean {
  return bytes.byteLength >= 8 && SIGNATURE.every((b, n) => bytes[n] === b);
}

/**
 * Decodes a non-interlaced greyscale PNG (colour type 0, bit depth 8 or 16) into a volume of dims
 * [width, height, 1]: pixel (row, col) → voxel (i = col, j = row, k = 0). A PNG has no geometry or
 * intensity unit, so spacing is 1 mm, origin 0, directions identity and unit "raw"; values are a
 * Uint8Array (8-bit) or Uint16Array (16-bit) unchanged. The IHDR size is checked against the
 * limits before anything is inflated.
 *
 * @throws ImagingError UNSUPPORTED_FORMAT (not a PNG, colour, palette, alpha, bit depth other than
 *   8/16, interlaced), IMAGING_TRUNCATED (short file, missing chunks), IMAGING_INCONSISTENT (CRC or
 *   zlib errors, bad header), IMAGING_TOO_LARGE (over maxBytes / maxVoxels).
 */
export function decodePng(bytes: Uint8Array, options: PngDecodeOptions = {}): Volume {
  const limits = resolveDecodeLimits(options.limits);
  if (bytes.byteLength > limits.maxBytes) {
    throw new ImagingError("IMAGING_TOO_LARGE", `PNG of ${bytes.byteLength} bytes exceeds the ${limits.maxBytes}-byte limit`);
  }
  if (!looksLikePng(bytes)) throw new ImagingError("UNSUPPORTED_FORMAT", "not a PNG (signature missing)");
  if (bytes.byteLength < 33) throw new ImagingError("IMAGING_TRUNCATED", "PNG ends before its IHDR chunk");
  const v = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (String.fromCharCode(...bytes.subarray(12, 16)) !== "IHDR") throw new ImagingError("IMAGING_INCONSISTENT", "PNG does not start with IHDR");
  const width = v.getUint32(16);
  const height = v.getUint32(20);
  const depth = bytes[24]!;
  const colorType = bytes[25]!;
  const interlace = bytes[28]!;
  if (width === 0 || height === 0) throw new ImagingError("IMAGING_INCONSISTENT", "PNG width or height is 0");
  if (width * height > limits.maxVoxels) {
    throw new ImagingError("IMAGING_TOO_LARGE", `${width}×${height} pixels exceed the ${limits.maxVoxels}-voxel limit`);
  }
  if (colorType !== 0) throw new ImagingError("UNSUPPORTED_FORMAT", `PNG colour type ${colorType}: only greyscale (0) is supported`);
  if (depth !== 8 && depth !== 16) throw new ImagingError("UNSUPPORTED_FORMAT", `PNG bit depth ${depth}: only 8 and 16 are supported`);
  // pngjs inflates interlaced images without a size bound, so they are refused.
  if (interlace !== 0) throw new ImagingError("UNSUPPORTED_FORMAT", "interlaced PNGs are not supported");

  let png: ReturnType<typeof PNG.sync.read>;
  try {
    png = PNG.sync.read(Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength), { skipRescale: true });
  } catch (err) {
    const text = err instanceof Error ? err.message : String(err);
    const code = /end|truncat|unexpected|missing|no more/i.test(text) ? "IMAGING_TRUNCATED" : "IMAGING_INCONSISTENT";
    throw new ImagingError(code, "PNG could not be decoded", { cause: text.slice(0, 200) });
  }
  if (png.width !== width || png.height !== height) throw new ImagingError("IMAGING_INCONSISTENT", "PNG size changed while decoding");
  const n = width * height;
  // pngjs expands grey to RGBA (a Uint16Array for 16-bit with skipRescale); take the first channel.
  const rgba = png.data as unknown as ArrayLike<number>;
  if (rgba.length < n * 4) throw new ImagingError("IMAGING_TRUNCATED", "PNG pixel data is incomplete");
  const data = depth === 16 ? new Uint16Array(n) : new Uint8Array(n);
  for (let p = 0; p < n; p++) data[p] = rgba[p * 4]!;
  return {
    dimsIJK: [width, height, 1],
    spacingMm: [1, 1, 1],
    originLPS: [0, 0, 0],
    directionLPS: IDENTITY_DIRECTION_LPS,
    unit: "raw",
    data,
    meta: { format: "PNG", bitDepth: depth },
  };
}
