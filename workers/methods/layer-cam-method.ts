// LayerCAM (Jiang et al. 2021) from the classifier's exported activations and their gradient.
import { minMaxNormalize } from "../../imaging/mask/min-max-normalize.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import { resizeBilinear } from "../../imaging/preprocess/bilinear-resize.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import type { MethodInput, MethodSliceOutput, SegmentationMethodRunner } from "./segmentation-method.ts";

/** Options of {@link LayerCamMethod}. */
export interface LayerCamMethodOptions {
  readonly engine: InferenceEngine;
  readonly classifierKey: string;
  /** Saliency threshold on the normalised map; default the classifier's thresholds.saliency (0.975). */
  readonly saliencyThreshold?: number;
}

/**
 * LayerCAM at the target layer: `L = ReLU(Σ_k ReLU(∂logit/∂A_k) ⊙ A_k)` position by position at
 * h × w, upsampled bilinearly (half-pixel centres) to H × W, min-max normalised; mask = L > 0.975.
 *
 * The gradient is the classifier's `activations_grad` output, computed in-graph (exact for a target
 * layer right before global average pooling + linear head: ∂logit/∂A_k = w_k / (h·w); STACK.md). The
 * test compares the result with torch.autograd. No extra forward pass: the pipeline's classify
 * stage already produced A and ∂logit/∂A.
 */
export class LayerCamMethod implements SegmentationMethodRunner {
  readonly method = "LAYER_CAM" as const;

  constructor(private readonly options: LayerCamMethodOptions) {}

  async run(input: MethodInput): Promise<MethodSliceOutput[]> {
    const classifier = await this.options.engine.spec(this.options.classifierKey);
    const threshold = this.options.saliencyThreshold ?? classifier.thresholds.saliency;
    const [n, , height, width] = input.x.dims as [number, number, number, number];
    const [, channels, h, w] = input.activations.dims as [number, number, number, number];
    const featurePlane = h * w;
    const out: MethodSliceOutput[] = [];
    for (let i = 0; i < n; i++) {
      const base = i * channels * featurePlane;
      const cam = new Float32Array(featurePlane);
      for (let q = 0; q < featurePlane; q++) {
        let sum = 0;
        for (let k = 0; k < channels; k++) {
          const g = input.activationsGrad.data[base + k * featurePlane + q]!;
          if (g > 0) sum += g * input.activations.data[base + k * featurePlane + q]!;
        }
        cam[q] = sum > 0 ? sum : 0;
      }
      const map = minMaxNormalize(resizeBilinear({ width: w, height: h, data: cam }, height, width).data);
      out.push({ map, mapKind: "SALIENCY", threshold, mask: thresholdMap(map, width, height, threshold), pAfter: null });
    }
    return out;
  }
}
