// Small greyscale PNGs built in code.
import { PNG } from "pngjs";

/** An 8-bit greyscale PNG of `width`×`height` with pixel (row, col) = (row * width + col) % 256. */
export function greyPng(width: number, height: number): Uint8Array {
  const png = new PNG({ width, height, colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 });
  const data = Buffer.alloc(width * height);
  for (let i = 0; i < data.length; i++) data[i] = i % 256;
  png.data = data;
  return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, inputHasAlpha: false, bitDepth: 8 }));
}
