// The method parameters a segmentation job may carry (SegmentationJob.params, InferenceTaskV1.params).
import { z } from "zod";

/**
 * The schema of a job's `params` (untrusted JSON): unknown keys are rejected. Bounds: thresholds in
 * (0, 1); RISE N ≤ 20000, s ≤ 64, p1 in (0, 1]; batchSize ≤ 256. `refine` excludes `cleanUp`, and
 * `hysteresisThreshold` needs `refine`. Checked by the API before a job is stored and again by the
 * worker; what depends on the model (a calibrated lower threshold, one below the mask threshold)
 * is checked where the model is known.
 */
export const segmentationParamsSchema = z
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
  .strict()
  .superRefine((p, ctx) => {
    if (p.refine && p.cleanUp) ctx.addIssue({ code: "custom", path: ["refine"], message: "choose one of cleanUp and refine" });
    if (p.hysteresisThreshold !== undefined && !p.refine) {
      ctx.addIssue({ code: "custom", path: ["hysteresisThreshold"], message: "hysteresisThreshold needs refine: true" });
    }
  });

/** Parsed job parameters (undefined members dropped). */
export type SegmentationParamsInput = z.infer<typeof segmentationParamsSchema>;

/**
 * Validates job parameters.
 *
 * @returns the parameters with undefined members dropped, or every problem as `path: message`.
 */
export function checkSegmentationParams(value: unknown): { ok: true; params: SegmentationParamsInput } | { ok: false; problems: string[] } {
  const parsed = segmentationParamsSchema.safeParse(value ?? {});
  if (!parsed.success) return { ok: false, problems: parsed.error.issues.map((i) => `${i.path.join(".") || "(root)"}: ${i.message}`) };
  return { ok: true, params: Object.fromEntries(Object.entries(parsed.data).filter(([, v]) => v !== undefined)) as SegmentationParamsInput };
}

/**
 * The refinement's lower threshold for a model, as both the API (before a job is stored) and the
 * worker's pipeline decide it: `hysteresisThreshold`, else the model's calibrated
 * `thresholds.hysteresis`; not above the method's threshold. `low` is undefined when `refine` is off.
 *
 * @param calibrated the model's thresholds.hysteresis, if any
 * @param methodThreshold the threshold the method's mask uses (mask or saliency), if known
 * @returns the threshold, or the problem (`refine` with `cleanUp`, `hysteresisThreshold` without
 *   `refine`, no threshold to use, or one above the method's).
 */
export function refinementLowThreshold(
  params: Pick<SegmentationParamsInput, "refine" | "cleanUp" | "hysteresisThreshold">,
  calibrated: number | undefined,
  methodThreshold: number | undefined,
): { low: number | undefined } | { problem: string } {
  if (!params.refine) return params.hysteresisThreshold !== undefined ? { problem: "hysteresisThreshold needs refine: true" } : { low: undefined };
  if (params.cleanUp) return { problem: "choose one of cleanUp and refine" };
  const low = params.hysteresisThreshold ?? calibrated;
  if (low === undefined) return { problem: "refine needs hysteresisThreshold: the model has no calibrated thresholds.hysteresis" };
  if (methodThreshold !== undefined && low > methodThreshold) return { problem: `hysteresisThreshold ${low} is above the mask threshold ${methodThreshold}` };
  return { low };
}
