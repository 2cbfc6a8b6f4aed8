// The evaluation protocol's overlap numbers over a set of slices (DESIGN.md §2).
import { ImagingError } from "../errors/imaging-error.ts";
import type { ConfusionCounts } from "./confusion-counts.ts";
import { diceScore, iouScore } from "./overlap-scores.ts";

/** Pooled and per-slice overlap over a set of slices. */
export interface SegmentationSummary {
  /** Number of slices. */
  readonly slices: number;
  /** TP, FP, FN summed over all slices. */
  readonly tp: number;
  readonly fp: number;
  readonly fn: number;
  /** IoU of the summed counts: ΣTP / (ΣTP + ΣFP + ΣFN). The paper's headline metric. */
  readonly pooledIoU: number;
  /** Dice of the summed counts: 2ΣTP / (2ΣTP + ΣFP + ΣFN). */
  readonly pooledDice: number;
  /** Mean and population standard deviation (divide by n) of the per-slice IoU. */
  readonly meanIoU: number;
  readonly stdIoU: number;
  /** Mean and population standard deviation (divide by n) of the per-slice Dice. */
  readonly meanDice: number;
  readonly stdDice: number;
}

/**
 * Summarises per-slice confusion counts: pooled IoU and Dice (counts summed first, then the ratio),
 * and the mean ± population standard deviation (numpy's default, ddof = 0) of the per-slice scores.
 * A slice where prediction and truth are both empty scores 1 (see `iouScore`). Pass the
 * ground-truth-positive slices to follow DESIGN.md §2.
 *
 * @throws ImagingError INVALID_ARGUMENT for an empty list or counts that are negative or not integers.
 */
export function summariseSegmentation(perSlice: readonly ConfusionCounts[]): SegmentationSummary {
  if (perSlice.length === 0) throw new ImagingError("INVALID_ARGUMENT", "no slices to summarise");
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const ious: number[] = [];
  const dices: number[] = [];
  perSlice.forEach((c, n) => {
    for (const v of [c.tp, c.fp, c.fn]) {
      if (!Number.isInteger(v) || v < 0) throw new ImagingError("INVALID_ARGUMENT", `slice ${n} has a bad count ${v}`);
    }
    tp += c.tp;
    fp += c.fp;
    fn += c.fn;
    ious.push(iouScore(c));
    dices.push(diceScore(c));
  });
  const [meanIoU, stdIoU] = meanAndStd(ious);
  const [meanDice, stdDice] = meanAndStd(dices);
  return {
    slices: perSlice.length,
    tp,
    fp,
    fn,
    pooledIoU: iouScore({ tp, fp, fn }),
    pooledDice: diceScore({ tp, fp, fn }),
    meanIoU,
    stdIoU,
    meanDice,
    stdDice,
  };
}

function meanAndStd(values: readonly number[]): [number, number] {
  const mean = values.reduce((s, v) => s + v, 0) / values.length;
  const variance = values.reduce((s, v) => s + (v - mean) ** 2, 0) / values.length;
  return [mean, Math.sqrt(variance)];
}
