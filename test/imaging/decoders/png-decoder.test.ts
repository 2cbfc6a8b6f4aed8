import { test } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { crc32, deflateSync } from "node:zlib";
import { decodePng } from "../../../imaging/png/png-decoder.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";

/**
 * A w×h greyscale PNG (colour type 0) whose pixel (row, col) holds `value(row, col)`, assembled by
 * hand from the PNG spec (big-endian samples, filter 0 rows) so the test does not trust pngjs's writer.
 */
function greyPng(width: number, height: number, bitDepth: 8 | 16, value: (row: number, col: number) => number): Uint8Array {
  const bpp = bitDepth / 8;
  const raw = Buffer.alloc(height * (1 + width * bpp));
  for (let r = 0; r < height; r++) {
    const rowAt = r * (1 + width * bpp);
    for (let c = 0; c < width; c++) {
      if (bitDepth === 16) raw.writeUInt16BE(value(r, c), rowAt + 1 + c * 2);
      else raw[rowAt + 1 + c] = value(r, c);
    }
  }
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = bitDepth;
  return new Uint8Array(Buffer.concat([Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]), chunk("IHDR", ihdr), chunk("IDAT", deflateSync(raw)), chunk("IEND", Buffer.alloc(0))]));
}

function chunk(type: string, body: Buffer): Buffer {
  const head = Buffer.alloc(8);
  head.writeUInt32BE(body.length, 0);
  head.write(type, 4, "latin1");
  const crc = Buffer.alloc(4);
  crc.writeUInt32BE(crc32(Buffer.concat([head.subarray(4), body])), 0);
  return Buffer.concat([head, body, crc]);
}

test("should return a one-slice raw volume with row = j and column = i when an 8-bit grey PNG is decoded", () => {
  const out = decodePng(greyPng(5, 3, 8, (r, c) => r * 10 + c));
  assert.deepEqual(out.dimsIJK, [5, 3, 1]);
  assert.equal(out.unit, "raw");
  assert.ok(out.data instanceof Uint8Array);
  assert.equal(out.data[2 + 1 * 5], 12);
  assert.deepEqual(Array.from(out.data), Array.from({ length: 15 }, (_, p) => Math.floor(p / 5) * 10 + (p % 5)));
});

test("should keep full 16-bit values when a 16-bit grey PNG is decoded", () => {
  const out = decodePng(greyPng(4, 2, 16, (r, c) => 1000 * r + 300 * c + 60000 * (r & c & 1)));
  assert.ok(out.data instanceof Uint16Array);
  assert.deepEqual(Array.from(out.data), [0, 300, 600, 900, 1000, 61300, 1600, 61900]);
});

test("should throw UNSUPPORTED_FORMAT when the PNG is colour", () => {
  const png = new PNG({ width: 2, height: 2 });
  png.data.fill(128);
  assert.throws(() => decodePng(new Uint8Array(PNG.sync.write(png))), (e) => isImagingError(e, "UNSUPPORTED_FORMAT") && /colour type 6/.test(e.message));
});

test("should throw IMAGING_TOO_LARGE when the IHDR size exceeds maxVoxels", () => {
  assert.throws(() => decodePng(greyPng(20, 20, 8, () => 0), { limits: { maxVoxels: 399 } }), (e) => isImagingError(e, "IMAGING_TOO_LARGE"));
});

test("should throw a coded error when the PNG is truncated", () => {
  const bytes = greyPng(16, 16, 8, (r, c) => r ^ c);
  for (const keep of [20, 40, bytes.length - 13]) {
    assert.throws(() => decodePng(bytes.subarray(0, keep)), (e) => isImagingError(e, "IMAGING_TRUNCATED") || isImagingError(e, "IMAGING_INCONSISTENT"));
  }
});

test("should throw UNSUPPORTED_FORMAT when the signature is missing", () => {
  assert.throws(() => decodePng(new Uint8Array(64)), (e) => isImagingError(e, "UNSUPPORTED_FORMAT"));
});
