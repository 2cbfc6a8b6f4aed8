// Validates InferenceTaskV1.params (untrusted JSON) into SegmentationParams.
import { checkSegmentationParams } from "../../core/domain/segmentation-params.ts";
import { InferenceError } from "../errors/inference-error.ts";
import type { SegmentationParams } from "./segmentation-pipeline.ts";

/**
 * Parses a job's method parameters (DESIGN.md §5 SegmentationJob.params) with the schema the API
 * checks too (`core/domain/segmentation-params.ts`). Unknown keys are rejected.
 *
 * @throws InferenceError INVALID_METHOD_INPUT listing every problem (permanent).
 */
export function parseSegmentationParams(value: unknown): SegmentationParams {
  const checked = checkSegmentationParams(value);
  if (!checked.ok) throw new InferenceError("INVALID_METHOD_INPUT", `invalid method parameters: ${checked.problems.join("; ")}`);
  return checked.params as SegmentationParams;
}
