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

/**
 * TP, FP, FN and TN pixels of a predicted mask against a reference mask, both given as runs (see
 * {@link encodeRle}) on the same grid of `pixelCount` pixels, counted by walking the two run lists
 * together (no decoding: cost grows with the number of runs, not of pixels).
 * @throws RangeError when either list has a negative or fractional run or does not cover `pixelCount`.
 */
export function rleConfusionCounts(predicted: readonly number[], truth: readonly number[], pixelCount: number): { tp: number; fp: number; fn: number; tn: number } {
  for (const runs of [predicted, truth]) {
    let total = 0;
    for (const n of runs) {
      if (!Number.isInteger(n) || n < 0) throw new RangeError(`invalid run length ${n}`);
      total += n;
    }
    if (total !== pixelCount) throw new RangeError(`runs cover ${total} pixels, expected ${pixelCount}`);
  }
  const counts = { tp: 0, fp: 0, fn: 0, tn: 0 };
  let a = 0;
  let b = 0;
  let leftA = predicted[0] ?? 0;
  let leftB = truth[0] ?? 0;
  for (let done = 0; done < pixelCount; ) {
    while (leftA === 0) leftA = predicted[++a]!;
    while (leftB === 0) leftB = truth[++b]!;
    const step = Math.min(leftA, leftB);
    const p = a % 2 === 1;
    const t = b % 2 === 1;
    if (p && t) counts.tp += step;
    else if (p) counts.fp += step;
    else if (t) counts.fn += step;
    else counts.tn += step;
    leftA -= step;
    leftB -= step;
    done += step;
  }
  return counts;
}
