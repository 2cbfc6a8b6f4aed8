// Chooses a benchmark's intensity window the paper's way, and checks the oracle's ceiling.
import { generateBenchmarkScan, LABEL, type BenchmarkScanOptions } from "./benchmark-scan.ts";
import { PAPER_BLOB_RECIPE } from "./blob-template.ts";

/** What {@link chooseWindow} decided and why. */
export interface WindowChoice {
  /** The window written to dataset.json and every model spec (HU, integers). */
  readonly windowHU: readonly [number, number];
  /** The 0.5 / 99.5 percentiles of the sampled foreground voxels (HU). */
  readonly percentileWindowHU: readonly [number, number];
  /** Oracle pooled IoU at native resolution with the chosen window (kidney-blob only). */
  readonly oracleIoU?: number;
  /** How many times the upper bound was widened (by 10 % of the width each) to reach the ceiling. */
  readonly widenings: number;
  readonly sampledScans: number;
}

/**
 * Window = the 0.5 / 99.5 percentiles of foreground voxels (kidney, plus lesion for kidney-lesion)
 * of `scanIndices` (train scans). For kidney-blob the blob is added on this window's [0, 1] scale
 * and clipped at 1, so a bright kidney near the top of the window leaves too little head-room:
 * the upper bound is widened by 10 % of the width until the oracle's pooled IoU at the paper's
 * mask threshold reaches `minOracleIoU` (default 0.9), at most 10 times.
 */
export function chooseWindow(
  scanIndices: readonly number[],
  options: Omit<BenchmarkScanOptions, "windowHU">,
  minOracleIoU = 0.9,
): WindowChoice {
  const histogram = new Map<number, number>();
  let total = 0;
  for (const s of scanIndices) {
    const scan = generateBenchmarkScan(s, { ...options, windowHU: [0, 1] });
    const source = options.benchmark === "kidney-blob" ? scan.cleanHU : scan.volumeHU;
    for (let p = 0; p < scan.labels.length; p++) {
      const l = scan.labels[p]!;
      if (l === LABEL.kidney || (l === LABEL.target && options.benchmark === "kidney-lesion")) {
        const v = source[p]!;
        histogram.set(v, (histogram.get(v) ?? 0) + 1);
        total++;
      }
    }
  }
  const sorted = [...histogram.keys()].sort((a, b) => a - b);
  const percentile = (q: number): number => {
    let acc = 0;
    const target = q * total;
    for (const v of sorted) {
      acc += histogram.get(v)!;
      if (acc >= target) return v;
    }
    return sorted[sorted.length - 1]!;
  };
  const percentileWindowHU = [percentile(0.005), percentile(0.995)] as const;
  if (options.benchmark !== "kidney-blob") {
    return { windowHU: percentileWindowHU, percentileWindowHU, widenings: 0, sampledScans: scanIndices.length };
  }
  const low = percentileWindowHU[0];
  let high = percentileWindowHU[1];
  let widenings = 0;
  let iou = oracleIoU(scanIndices, { ...options, windowHU: [low, high] });
  while (iou < minOracleIoU && widenings < 10) {
    high = Math.round(high + 0.1 * (high - low));
    widenings++;
    iou = oracleIoU(scanIndices, { ...options, windowHU: [low, high] });
  }
  return { windowHU: [low, high], percentileWindowHU, oracleIoU: iou, widenings, sampledScans: scanIndices.length };
}

/** Pooled IoU of (|clip(abnormal) − clip(clean)| > 0.25) against the ground truth, native resolution. */
export function oracleIoU(scanIndices: readonly number[], options: BenchmarkScanOptions): number {
  const [low, high] = options.windowHU;
  const threshold = (options.blob ?? PAPER_BLOB_RECIPE).gtThreshold;
  let tp = 0;
  let fp = 0;
  let fn = 0;
  const unit = (v: number): number => Math.min(1, Math.max(0, (v - low) / (high - low)));
  for (const s of scanIndices) {
    const scan = generateBenchmarkScan(s, options);
    for (let p = 0; p < scan.labels.length; p++) {
      const predicted = Math.abs(unit(scan.volumeHU[p]!) - unit(scan.cleanHU[p]!)) > threshold;
      const truth = scan.labels[p] === LABEL.target;
      if (predicted && truth) tp++;
      else if (predicted) fp++;
      else if (truth) fn++;
    }
  }
  return tp / Math.max(1, tp + fp + fn);
}
