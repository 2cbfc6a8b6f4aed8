// The refined counterfactual mask: hysteresis growth into the weak halo, then the largest region.
import type { BinaryMask } from "./binary-mask.ts";
import { hysteresisMask } from "./hysteresis-mask.ts";
import { largestComponent8 } from "./largest-component.ts";

/**
 * `largestComponent8(hysteresisMask(weak, strong))`: the thresholded mask (`strong`, map > t) grown
 * into the 8-connected pixels of `weak` (map > tLow, tLow ≤ t), then only the largest 8-connected
 * region. The alternative to the paper's clean-up (`cleanUpMask`) for difference maps whose target
 * fades out below t where the classifier cannot see it (README "Mask refinement": a blob's halo over
 * fat the intensity window clips); unlike the clean-up it does not open the mask, which erases
 * regions two pixels thin. tLow is calibrated per generator on the val split (model.json
 * thresholds.hysteresis, `python -m coinseg_train calibrate-refinement`).
 *
 * @throws ImagingError INVALID_ARGUMENT when a mask is malformed or the sizes differ.
 */
export function refineMask(strong: BinaryMask, weak: BinaryMask): BinaryMask {
  return largestComponent8(hysteresisMask(weak, strong));
}
