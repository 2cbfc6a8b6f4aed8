// Raw little-endian float32 tensors, the format of the exporter's golden files (models/<key>/golden/*.bin).
import { readFileSync } from "node:fs";

/** Reads a raw little-endian float32 file into a Float32Array (byte order independent of the host). */
export function readFloat32File(path: string): Float32Array {
  const bytes = readFileSync(path);
  if (bytes.byteLength % 4 !== 0) throw new RangeError(`${path}: ${bytes.byteLength} bytes is not a whole number of float32 values`);
  const out = new Float32Array(bytes.byteLength / 4);
  const view = new DataView(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  for (let i = 0; i < out.length; i++) out[i] = view.getFloat32(i * 4, true);
  return out;
}
