// The benchmark's intensities mean something only in its own window: the kidney-blob target is added on
// the [0, 1] scale of dataset.json's window and clipped at 1 (DESIGN.md §3), so a model trained on another
// window sees a different problem and its scores are not the benchmark's. The evaluation checks every model
// it runs against the dataset before it spends minutes on them.

/** A model and the window its spec maps to [−1, 1] (HU). */
export interface WindowedModel {
  readonly key: string;
  readonly windowHU: readonly [number, number];
}

/**
 * The models whose window differs from the dataset's (exact HU bounds: both are written as integers by
 * the project's own scripts); an empty list when every model matches.
 */
export function windowMismatches(datasetWindowHU: readonly [number, number], models: readonly WindowedModel[]): WindowedModel[] {
  return models.filter((m) => m.windowHU[0] !== datasetWindowHU[0] || m.windowHU[1] !== datasetWindowHU[1]);
}

/** The mismatching models in one line ("; "-separated), for the CLI's error or the report's note. */
export function describeWindowMismatches(datasetWindowHU: readonly [number, number], mismatches: readonly WindowedModel[]): string {
  return mismatches.map((m) => `model ${m.key} maps [${m.windowHU.join(", ")}] HU, the dataset [${datasetWindowHU.join(", ")}] HU`).join("; ");
}
