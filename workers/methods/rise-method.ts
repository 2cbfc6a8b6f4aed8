// RISE (Petsiuk et al. 2018): saliency = Σ f(X ⊙ M_i) M_i / (N p1), with the same classifier as COIN.
import { minMaxNormalize } from "../../imaging/mask/min-max-normalize.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { RiseMaskCache } from "./rise-mask-cache.ts";
import type { MethodInput, MethodSliceOutput, SegmentationMethodRunner } from "./segmentation-method.ts";
import { sigmoid } from "./sigmoid.ts";

/** RISE parameters (DESIGN.md §1 defaults: N = 6000, s = 8, p1 = 0.1). */
export interface RiseParams {
  readonly n: number;
  readonly s: number;
  readonly p1: number;
  /** Mask PRNG seed (default 0): fixed, so results are reproducible. */
  readonly seed: number;
}

/** The paper's RISE parameters. */
export const DEFAULT_RISE_PARAMS: RiseParams = { n: 6000, s: 8, p1: 0.1, seed: 0 };

/** Options of {@link RiseMethod}. */
export interface RiseMethodOptions {
  readonly engine: InferenceEngine;
  readonly classifierKey: string;
  readonly params?: Partial<RiseParams>;
  /** Saliency threshold on the normalised map; default the classifier's thresholds.saliency (0.975). */
  readonly saliencyThreshold?: number;
  /** Masked images per forward pass (default 64). */
  readonly batchSize?: number;
  /** Shared mask cache (default: one owned by this instance). */
  readonly maskCache?: RiseMaskCache;
}

/**
 * RISE on the classifier's P(abnormal) = σ(logit):
 * `S = Σ_i σ(f(X ⊙ M_i)) · M_i / (N · p1)`, min-max normalised, mask = S > 0.975.
 *
 * Masking multiplies the [−1, 1] model input by M_i, so a masked-out pixel becomes 0 — the middle of
 * the model's intensity window (not black). The PyTorch reference (test/fixtures/make_tiny_models.py)
 * does exactly the same. Masks come from {@link RiseMaskCache} (generated once per size and
 * parameters); forward passes are batched (`batchSize` masked images per `engine.run`).
 */
export class RiseMethod implements SegmentationMethodRunner {
  readonly method = "RISE" as const;
  private readonly params: RiseParams;
  private readonly cache: RiseMaskCache;

  constructor(private readonly options: RiseMethodOptions) {
    this.params = { ...DEFAULT_RISE_PARAMS, ...options.params };
    this.cache = options.maskCache ?? new RiseMaskCache();
  }

  async run(input: MethodInput): Promise<MethodSliceOutput[]> {
    const { engine, classifierKey } = this.options;
    const batchSize = this.options.batchSize ?? 64;
    const classifier = await engine.spec(classifierKey);
    const threshold = this.options.saliencyThreshold ?? classifier.thresholds.saliency;
    const [n, , height, width] = input.x.dims as [number, number, number, number];
    const { n: count, p1 } = this.params;
    const masks = this.cache.get({ height, width, ...this.params });
    const plane = height * width;
    const batch = new Float32Array(Math.min(batchSize, count) * plane);
    const out: MethodSliceOutput[] = [];
    for (let i = 0; i < n; i++) {
      const x = input.x.data.subarray(i * plane, (i + 1) * plane);
      const acc = new Float64Array(plane);
      for (let start = 0; start < count; start += batchSize) {
        const b = Math.min(batchSize, count - start);
        for (let m = 0; m < b; m++) {
          const mask = masks.subarray((start + m) * plane, (start + m + 1) * plane);
          const base = m * plane;
          for (let p = 0; p < plane; p++) batch[base + p] = x[p]! * mask[p]!;
        }
        const { logit } = await engine.run(classifierKey, { x: { data: batch.subarray(0, b * plane), dims: [b, 1, height, width] } }, ["logit"]);
        for (let m = 0; m < b; m++) {
          const score = sigmoid(logit!.data[m]!);
          const mask = masks.subarray((start + m) * plane, (start + m + 1) * plane);
          for (let p = 0; p < plane; p++) acc[p]! += score * mask[p]!;
        }
      }
      const scale = 1 / (count * p1);
      for (let p = 0; p < plane; p++) acc[p]! *= scale;
      const map = minMaxNormalize(acc);
      out.push({ map, mapKind: "SALIENCY", threshold, mask: thresholdMap(map, width, height, threshold), pAfter: null });
    }
    return out;
  }
}
