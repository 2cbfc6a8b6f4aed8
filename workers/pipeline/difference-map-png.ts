// A [0, 1] map (COIN difference or saliency) as an 8-bit greyscale PNG.
import { PNG } from "pngjs";
import { InferenceError } from "../errors/inference-error.ts";

/**
 * Encodes a row-major map with values in [0, 1] (clipped) as a greyscale PNG: 0 → black, 1 → white,
 * `round(255 · v)`. Used for the optional difference-map attachment of a COIN / Singla result.
 *
 * @returns the PNG file bytes
 * @throws InferenceError INVALID_METHOD_INPUT when `map.length !== width · height`.
 */
export function differenceMapPng(map: ArrayLike<number>, width: number, height: number): Uint8Array {
  if (map.length !== width * height) throw new InferenceError("INVALID_METHOD_INPUT", `map has ${map.length} values, expected ${width}×${height}`);
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false });
  const data = Buffer.alloc(width * height);
  for (let p = 0; p < data.length; p++) {
    const v = map[p]!;
    data[p] = Math.round(255 * (v < 0 ? 0 : v > 1 ? 1 : v));
  }
  png.data = data;
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false }));
}
