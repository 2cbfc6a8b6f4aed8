// A job's masks scored against the study's reference masks, by the evaluation protocol (DESIGN.md §2).
import { summariseSegmentation, type SegmentationSummary } from "../../imaging/metrics/segmentation-summary.ts";
import type { GroundTruthMask } from "./ground-truth-mask.ts";
import { rleConfusionCounts } from "./rle.ts";
import type { SliceResult } from "./slice-result.ts";

/** What {@link evaluateJobResults} reports. */
export interface JobEvaluation {
  /** Results whose slice has a reference mask (empty or not). */
  readonly slicesWithGroundTruth: number;
  /**
   * The protocol's population: results whose reference mask is not empty, with their pooled and
   * per-slice overlap; null when there is none.
   */
  readonly positive: SegmentationSummary | null;
  /** Results whose reference mask is empty but whose mask is not (false alarms, outside the pooled figures). */
  readonly falsePositiveSlices: number;
}

/**
 * Scores each result against the reference mask of its slice (results of slices without one are
 * left out): pooled IoU and Dice over the slices whose reference is not empty, as the paper and
 * `npm run eval` do, and the false alarms on the slices whose reference is empty.
 * Returns null when no result has a reference mask.
 * @throws RangeError when a result and its reference have different grids or malformed runs (a
 *   stored row that breaks the schema's invariants: both are the slice's native grid).
 */
export function evaluateJobResults(results: readonly SliceResult[], truthBySlice: ReadonlyMap<string, GroundTruthMask>): JobEvaluation | null {
  const positive: { tp: number; fp: number; fn: number; tn: number }[] = [];
  let slicesWithGroundTruth = 0;
  let falsePositiveSlices = 0;
  for (const r of results) {
    const truth = truthBySlice.get(r.sliceId);
    if (!truth) continue;
    if (truth.width !== r.width || truth.height !== r.height) {
      throw new RangeError(`slice ${r.sliceIndex}: result ${r.width}×${r.height} and reference ${truth.width}×${truth.height} differ`);
    }
    slicesWithGroundTruth++;
    const counts = rleConfusionCounts(r.maskRle, truth.rle, r.width * r.height);
    if (counts.tp + counts.fn > 0) {
      positive.push(counts);
    } else if (counts.fp > 0) {
      falsePositiveSlices++;
    }
  }
  if (slicesWithGroundTruth === 0) return null;
  return {
    slicesWithGroundTruth,
    positive: positive.length > 0 ? summariseSegmentation(positive) : null,
    falsePositiveSlices,
  };
}
