// Score-CAM (Wang et al. 2020) at the classifier's target layer, weighted by the sigmoid score.
import { minMaxNormalize } from "../../imaging/mask/min-max-normalize.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import { resizeBilinear } from "../../imaging/preprocess/bilinear-resize.ts";
import { upsampleFeatureMaps } from "../../imaging/preprocess/upsample-feature-maps.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import type { MethodInput, MethodSliceOutput, SegmentationMethodRunner } from "./segmentation-method.ts";
import { sigmoid } from "./sigmoid.ts";

/** Options of {@link ScoreCamMethod}. */
export interface ScoreCamMethodOptions {
  readonly engine: InferenceEngine;
  readonly classifierKey: string;
  /** Saliency threshold on the normalised map; default the classifier's thresholds.saliency (0.975). */
  readonly saliencyThreshold?: number;
  /** Masked images per forward pass (default 64). */
  readonly batchSize?: number;
}

/**
 * Score-CAM on the target layer A (C × h × w, the classifier's `activations` output):
 *
 * 1. each channel A_k is upsampled to H × W (bilinear, half-pixel centres) and min-max normalised
 *    to M_k; a constant channel carries no information and gets weight 0 (as the original code skips it);
 * 2. α_k = σ(f(X ⊙ M_k)) — the sigmoid score of the input masked by M_k (masking multiplies the
 *    [−1, 1] input, as in RISE);
 * 3. L = ReLU(Σ_k α_k A_k) at h × w, upsampled bilinearly to H × W, min-max normalised;
 *    mask = L > 0.975.
 *
 * The masked images of one slice run `batchSize` at a time.
 */
export class ScoreCamMethod implements SegmentationMethodRunner {
  readonly method = "SCORE_CAM" as const;

  constructor(private readonly options: ScoreCamMethodOptions) {}

  async run(input: MethodInput): Promise<MethodSliceOutput[]> {
    const { engine, classifierKey } = this.options;
    const batchSize = this.options.batchSize ?? 64;
    const classifier = await engine.spec(classifierKey);
    const threshold = this.options.saliencyThreshold ?? classifier.thresholds.saliency;
    const [n, , height, width] = input.x.dims as [number, number, number, number];
    const [, channels, h, w] = input.activations.dims as [number, number, number, number];
    const plane = height * width;
    const featurePlane = h * w;
    const out: MethodSliceOutput[] = [];
    for (let i = 0; i < n; i++) {
      const x = input.x.data.subarray(i * plane, (i + 1) * plane);
      const a = input.activations.data.subarray(i * channels * featurePlane, (i + 1) * channels * featurePlane);
      const upsampled = upsampleFeatureMaps(a, channels, h, w, height, width);
      const informative: number[] = [];
      const masks: Float32Array[] = [];
      for (let k = 0; k < channels; k++) {
        const channel = upsampled.subarray(k * plane, (k + 1) * plane);
        let min = Infinity;
        let max = -Infinity;
        for (let p = 0; p < plane; p++) {
          const v = channel[p]!;
          if (v < min) min = v;
          if (v > max) max = v;
        }
        if (!(max > min)) continue;
        informative.push(k);
        masks.push(minMaxNormalize(channel));
      }
      const alpha = new Float64Array(channels);
      for (let start = 0; start < informative.length; start += batchSize) {
        const b = Math.min(batchSize, informative.length - start);
        const batch = new Float32Array(b * plane);
        for (let m = 0; m < b; m++) {
          const mask = masks[start + m]!;
          for (let p = 0; p < plane; p++) batch[m * plane + p] = x[p]! * mask[p]!;
        }
        const { logit } = await engine.run(classifierKey, { x: { data: batch, dims: [b, 1, height, width] } }, ["logit"]);
        for (let m = 0; m < b; m++) alpha[informative[start + m]!] = sigmoid(logit!.data[m]!);
      }
      const cam = new Float32Array(featurePlane);
      for (let q = 0; q < featurePlane; q++) {
        let sum = 0;
        for (let k = 0; k < channels; k++) sum += alpha[k]! * a[k * featurePlane + q]!;
        cam[q] = sum > 0 ? sum : 0;
      }
      const map = minMaxNormalize(resizeBilinear({ width: w, height: h, data: cam }, height, width).data);
      out.push({ map, mapKind: "SALIENCY", threshold, mask: thresholdMap(map, width, height, threshold), pAfter: null });
    }
    return out;
  }
}
