// The COIN paper's Table 1 (DESIGN.md §1), printed beside our numbers in every report.

/** Pooled IoU over ground-truth-positive test slices, as published (synthetic = kidney-blob, real = kidney-lesion's stand-in). */
export const PAPER_TABLE_1 = {
  synthetic: { COIN: 0.646, SINGLA: 0.445, RISE: 0.397, SCORE_CAM: 0.03, LAYER_CAM: 0.026 },
  real: { COIN: 0.432, SINGLA: 0.352, LAYER_CAM: 0.296, RISE: 0.294, SCORE_CAM: 0.293 },
} as const;

/** The paper's COIN counterfactual validity (τ = 0.8). */
export const PAPER_COIN_CV = { synthetic: 0.997, real: 0.98 } as const;

/** Which paper column a benchmark is compared with. */
export function paperColumnOf(benchmark: string): "synthetic" | "real" {
  return benchmark === "kidney-lesion" ? "real" : "synthetic";
}
