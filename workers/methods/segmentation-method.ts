// The contract every segmentation method implements (COIN, RISE, SCORE_CAM, LAYER_CAM, SINGLA).
import type { SegmentationMethod } from "../../core/domain/enums.ts";
import type { BinaryMask } from "../../imaging/mask/binary-mask.ts";
import type { Float32Tensor } from "../engine/float32-tensor.ts";

/**
 * What a method receives for n slices: the preprocessed model input and the classifier's outputs on
 * it, computed once by the pipeline's classify stage (every method needs f(X); the CAMs need the
 * target layer). All tensors are NCHW float32 in model space ([−1, 1] intensities, model size).
 */
export interface MethodInput {
  /** [n, 1, H, W], values in [−1, 1]. */
  readonly x: Float32Tensor;
  /** [n] classifier logits of x (sigmoid = P(abnormal)). */
  readonly logits: Float32Array;
  /** [n, C, h, w] target-layer activations A. */
  readonly activations: Float32Tensor;
  /** [n, C, h, w] ∂logit/∂A. */
  readonly activationsGrad: Float32Tensor;
  /**
   * Counterfactual methods whose generator works above the classifier's size (its model.json's
   * preprocess.size, a multiple of the classifier's): the same slices preprocessed at that size,
   * [n, 1, H', W']. The method's map and mask are then at H' × W'.
   */
  readonly generatorX?: Float32Tensor;
}

/** One slice's method output, at model size (H × W; H' × W' for a generator above the classifier's size). */
export interface MethodSliceOutput {
  /**
   * Row-major H × W map: for counterfactual methods the difference `|x − x_cf| / 2` on the [0, 1]
   * scale (DIFFERENCE); for saliency methods the min-max normalised saliency (SALIENCY).
   */
  readonly map: Float32Array;
  readonly mapKind: "DIFFERENCE" | "SALIENCY";
  /** The threshold applied: mask = map > threshold (strict). */
  readonly threshold: number;
  /** The raw mask (before any clean-up). */
  readonly mask: BinaryMask;
  /** Classifier P(abnormal) of the counterfactual; null for saliency methods. */
  readonly pAfter: number | null;
  /** Counterfactual methods: x_cf (H × W, [−1, 1]). */
  readonly xCf?: Float32Array;
}

/** A segmentation method: the "infer" stage of the pipeline, batched over slices. */
export interface SegmentationMethodRunner {
  readonly method: SegmentationMethod;
  /** Segments every slice of `input`, in order. */
  run(input: MethodInput): Promise<MethodSliceOutput[]>;
}
