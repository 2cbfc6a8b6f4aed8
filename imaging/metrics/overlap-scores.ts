// IoU and Dice of one set of confusion counts.
import type { ConfusionCounts } from "./confusion-counts.ts";

/**
 * Intersection over union, `TP / (TP + FP + FN)`. When prediction and truth are both empty
 * (TP + FP + FN = 0) the masks agree perfectly and the score is 1.
 */
export function iouScore(counts: Pick<ConfusionCounts, "tp" | "fp" | "fn">): number {
  const denominator = counts.tp + counts.fp + counts.fn;
  return denominator === 0 ? 1 : counts.tp / denominator;
}

/**
 * Dice coefficient, `2·TP / (2·TP + FP + FN)`. When prediction and truth are both empty the score is 1.
 */
export function diceScore(counts: Pick<ConfusionCounts, "tp" | "fp" | "fn">): number {
  const denominator = 2 * counts.tp + counts.fp + counts.fn;
  return denominator === 0 ? 1 : (2 * counts.tp) / denominator;
}
