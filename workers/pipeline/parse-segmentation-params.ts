// Validates InferenceTaskV1.params (untrusted JSON) into SegmentationParams.
import { z } from "zod";
import { InferenceError } from "../errors/inference-error.ts";
import type { SegmentationParams } from "./segmentation-pipeline.ts";

const schema = z
  .object({
    forceSegmentation: z.boolean().optional(),
    cleanUp: z.boolean().optional(),
    refine: z.boolean().optional(),
    hysteresisThreshold: z.number().gt(0).lt(1).optional(),
    maskThreshold: z.number().gt(0).lt(1).optional(),
    saliencyThreshold: z.number().gt(0).lt(1).optional(),
    rise: z
      .object({
        n: z.number().int().min(1).max(20000).optional(),
        s: z.number().int().min(1).max(64).optional(),
        p1: z.number().gt(0).max(1).optional(),
        seed: z.number().int().optional(),
      })
      .strict()
      .optional(),
    batchSize: z.number().int().min(1).max(256).optional(),
    differencePng: z.boolean().optional(),
  })
  .strict();

/**
 * Parses a job's method parameters (DESIGN.md §5 SegmentationJob.params). Unknown keys are rejected.
 * Bounds: thresholds in (0, 1); RISE N ≤ 20000, s ≤ 64, p1 in (0, 1]; batchSize ≤ 256.
 *
 * @throws InferenceError INVALID_METHOD_INPUT listing every problem (permanent).
 */
export function parseSegmentationParams(value: unknown): SegmentationParams {
  const parsed = schema.safeParse(value ?? {});
  if (!parsed.success) {
    throw new InferenceError("INVALID_METHOD_INPUT", `invalid method parameters: ${parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`).join("; ")}`);
  }
  const p = parsed.data;
  return Object.fromEntries(Object.entries(p).filter(([, v]) => v !== undefined)) as SegmentationParams;
}
