// Run-length encoding of binary masks, as stored in SliceResult.maskRle and GroundTruthMask.rle.

/**
 * Encodes a row-major binary mask (non-zero = foreground) as run lengths that alternate
 * background, foreground, background, …, starting with a (possibly zero-length) background run.
 * The runs sum to the number of pixels.
 */
export function encodeRle(mask: ArrayLike<number>): number[] {
  const runs: number[] = [];
  let current = 0;
  let length = 0;
  for (let i = 0; i < mask.length; i++) {
    const v = mask[i] ? 1 : 0;
    if (v === current) {
      length++;
    } else {
      runs.push(length);
      current = v;
      length = 1;
    }
  }
  runs.push(length);
  return runs;
}

/**
 * Decodes runs written by {@link encodeRle} into a Uint8Array of 0/1 with `pixelCount` entries.
 * @throws RangeError when the runs do not sum to `pixelCount` or contain a negative length.
 */
export function decodeRle(runs: readonly number[], pixelCount: number): Uint8Array {
  const out = new Uint8Array(pixelCount);
  let offset = 0;
  for (let r = 0; r < runs.length; r++) {
    const n = runs[r]!;
    if (!Number.isInteger(n) || n < 0) throw new RangeError(`invalid run length ${n}`);
    if (r % 2 === 1) out.fill(1, offset, offset + n);
    offset += n;
  }
  if (offset !== pixelCount) throw new RangeError(`runs cover ${offset} pixels, expected ${pixelCount}`);
  return out;
}
