// Counterfactual validity and flip rate of a generator, from classifier probabilities before and after.
import { ImagingError } from "../errors/imaging-error.ts";

/** The classifier's P(abnormal) for one slice, on the input (`pBefore` = f(X)) and on its counterfactual (`pAfter` = f(X_cf)). */
export interface CounterfactualProbabilities {
  readonly pBefore: number;
  readonly pAfter: number;
}

/** Counterfactual validity and flip rate over a set of slices. */
export interface CounterfactualValidity {
  /** Number of slices given. */
  readonly slices: number;
  /** Slices with pBefore > tau (confidently abnormal): the set CV is measured on. */
  readonly confidentSlices: number;
  /** Fraction of the confident slices with |pBefore − pAfter| > tau; `null` when there are none. */
  readonly cv: number | null;
  /** Fraction of all given slices whose counterfactual is classified normal: pAfter < abnormalThreshold. */
  readonly flipRate: number;
}

/**
 * Counterfactual validity (DESIGN.md §2, τ = 0.8 by default): over slices with `pBefore > tau`, the
 * fraction with `|pBefore − pAfter| > tau`. Flip rate: over all slices given, the fraction with
 * `pAfter < abnormalThreshold` (bin(f(X_cf)) = normal, threshold 0.5 by default). Strict
 * inequalities throughout. Pass the slices the report is about (e.g. the abnormal test slices).
 *
 * @param pairs probabilities in [0, 1]
 * @param options `tau` (default 0.8) and `abnormalThreshold` (default 0.5), both in (0, 1)
 * @throws ImagingError INVALID_ARGUMENT for an empty list, a probability outside [0, 1] or NaN,
 *   or an option outside (0, 1).
 */
export function counterfactualValidity(
  pairs: readonly CounterfactualProbabilities[],
  options: { readonly tau?: number; readonly abnormalThreshold?: number } = {},
): CounterfactualValidity {
  const tau = options.tau ?? 0.8;
  const abnormalThreshold = options.abnormalThreshold ?? 0.5;
  for (const [name, v] of [["tau", tau], ["abnormalThreshold", abnormalThreshold]] as const) {
    if (!(v > 0 && v < 1)) throw new ImagingError("INVALID_ARGUMENT", `${name} ${v} must lie in (0, 1)`);
  }
  if (pairs.length === 0) throw new ImagingError("INVALID_ARGUMENT", "no slices to evaluate");
  let confident = 0;
  let valid = 0;
  let flipped = 0;
  pairs.forEach(({ pBefore, pAfter }, n) => {
    if (!(pBefore >= 0 && pBefore <= 1 && pAfter >= 0 && pAfter <= 1)) {
      throw new ImagingError("INVALID_ARGUMENT", `slice ${n} has probabilities (${pBefore}, ${pAfter}) outside [0, 1]`);
    }
    if (pBefore > tau) {
      confident++;
      if (Math.abs(pBefore - pAfter) > tau) valid++;
    }
    if (pAfter < abnormalThreshold) flipped++;
  });
  return {
    slices: pairs.length,
    confidentSlices: confident,
    cv: confident === 0 ? null : valid / confident,
    flipRate: flipped / pairs.length,
  };
}
