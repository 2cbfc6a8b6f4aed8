// Per-slice pixel confusion counts between a predicted and a ground-truth mask.
import { ImagingError } from "../errors/imaging-error.ts";
import { assertBinaryMask, type BinaryMask } from "../mask/binary-mask.ts";

/** Pixel counts of one slice: true/false positives/negatives (prediction vs ground truth). */
export interface ConfusionCounts {
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  readonly tn: number;
}

/**
 * Counts TP (pred 1, truth 1), FP (pred 1, truth 0), FN (pred 0, truth 1) and TN pixels.
 * Both masks must be on the same grid (e.g. both at model size, or both native).
 *
 * @throws ImagingError INVALID_ARGUMENT when a mask is malformed, not 0/1, or the sizes differ.
 */
export function confusionCounts(predicted: BinaryMask, truth: BinaryMask): ConfusionCounts {
  assertBinaryMask(predicted, "predicted mask");
  assertBinaryMask(truth, "ground-truth mask");
  if (predicted.width !== truth.width || predicted.height !== truth.height) {
    throw new ImagingError(
      "INVALID_ARGUMENT",
      `predicted mask ${predicted.width}×${predicted.height} and ground truth ${truth.width}×${truth.height} differ`,
    );
  }
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const a = predicted.data;
  const b = truth.data;
  for (let p = 0; p < a.length; p++) {
    const v = (a[p]! << 1) | b[p]!;
    if (v === 3) tp++;
    else if (v === 2) fp++;
    else if (v === 1) fn++;
  }
  return { tp, fp, fn, tn: a.length - tp - fp - fn };
}
