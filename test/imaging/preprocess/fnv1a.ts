// FNV-1a (32-bit) over float32 bit patterns: lets a test compare a whole tensor with a Python reference bit for bit.

/** FNV-1a over the float32 bit patterns, one 32-bit word per step (same as the Python references in the tests). */
export function fnv1a(values: Float32Array): number {
  const bits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  let h = 0x811c9dc5;
  for (const b of bits) h = Math.imul(h ^ b, 0x01000193) >>> 0;
  return h;
}
