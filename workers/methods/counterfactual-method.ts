// COIN and Singla* share one shape: a generator proposes x_cf, the classifier scores it, the difference is the mask.
import type { SegmentationMethod } from "../../core/domain/enums.ts";
import { resizeBilinear } from "../../imaging/preprocess/bilinear-resize.ts";
import { InferenceError } from "../errors/inference-error.ts";
import type { Float32Tensor } from "../engine/float32-tensor.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { counterfactualMask } from "./counterfactual-mask.ts";
import { runBatched } from "./run-batched.ts";
import type { MethodInput, MethodSliceOutput, SegmentationMethodRunner } from "./segmentation-method.ts";
import { sigmoid } from "./sigmoid.ts";

/** Options of {@link CounterfactualMethod}. */
export interface CounterfactualMethodOptions {
  readonly engine: InferenceEngine;
  /** The frozen classifier f. */
  readonly classifierKey: string;
  /** A COIN_GENERATOR (method COIN) or SINGLA_GENERATOR (method SINGLA). */
  readonly generatorKey: string;
  /** Mask threshold on the [0, 1] difference; default: the generator's thresholds.mask (0.25). */
  readonly maskThreshold?: number;
  /** Samples per forward pass (default 16). */
  readonly batchSize?: number;
}

/**
 * COIN (DESIGN.md §1): x_cf = G(x) with the COIN generator (x_cf = tanh(P(x) + x)); pAfter = σ(f(x_cf));
 * diff = |x − x_cf| / 2; mask = diff > 0.25.
 *
 * SINGLA (Singla et al.*, as modified in the COIN paper): x_cf = G(x, c) with the flipped class
 * c = bin(1 − f(X)) as the `condition` input: c = 0 (normal) when σ(logit) > thresholds.abnormal of
 * the classifier, else 1 (abnormal); mask as COIN.
 *
 * Errors: MODEL_KIND_MISMATCH when the generator's kind does not fit the method or it was trained
 * against another classifier, INVALID_METHOD_INPUT for malformed inputs, plus the engine's.
 */
export class CounterfactualMethod implements SegmentationMethodRunner {
  constructor(
    readonly method: Extract<SegmentationMethod, "COIN" | "SINGLA">,
    private readonly options: CounterfactualMethodOptions,
  ) {}

  async run(input: MethodInput): Promise<MethodSliceOutput[]> {
    const { engine, classifierKey, generatorKey } = this.options;
    const batchSize = this.options.batchSize ?? 16;
    const generator = await engine.spec(generatorKey);
    const classifier = await engine.spec(classifierKey);
    const wantKind = this.method === "COIN" ? "COIN_GENERATOR" : "SINGLA_GENERATOR";
    if (generator.kind !== wantKind) {
      throw new InferenceError("MODEL_KIND_MISMATCH", `${this.method} needs a ${wantKind}, ${generatorKey} is a ${generator.kind}`);
    }
    if (generator.classifierKey !== undefined && generator.classifierKey !== classifierKey) {
      throw new InferenceError("MODEL_KIND_MISMATCH", `${generatorKey} was trained against ${generator.classifierKey}, not ${classifierKey}`);
    }
    // A generator above the classifier's size works on the slices preprocessed at its own size, and
    // the classifier judges x_cf resized to its size (the training's ResizedClassifier).
    const x = input.generatorX ?? input.x;
    const [n, , height, width] = x.dims as [number, number, number, number];
    const feeds: Record<string, Float32Tensor> = { x };
    if (this.method === "SINGLA") {
      const condition = new Float32Array(n);
      for (let i = 0; i < n; i++) condition[i] = sigmoid(input.logits[i]!) > classifier.thresholds.abnormal ? 0 : 1;
      feeds.condition = { data: condition, dims: [n] };
    }
    const { x_cf: xCf } = await runBatched(engine, generatorKey, feeds, ["x_cf"], batchSize);
    const [classifierHeight, classifierWidth] = classifier.preprocess.size;
    const xCfForClassifier = height === classifierHeight && width === classifierWidth ? xCf! : resizeBatch(xCf!, classifierHeight, classifierWidth);
    const { logit } = await runBatched(engine, classifierKey, { x: xCfForClassifier }, ["logit"], batchSize);
    const threshold = this.options.maskThreshold ?? generator.thresholds.mask;
    const plane = height * width;
    const out: MethodSliceOutput[] = [];
    for (let i = 0; i < n; i++) {
      const xi = x.data.subarray(i * plane, (i + 1) * plane);
      const cf = xCf!.data.slice(i * plane, (i + 1) * plane);
      const { diff, mask } = counterfactualMask(xi, cf, width, height, threshold);
      out.push({ map: diff, mapKind: "DIFFERENCE", threshold, mask, pAfter: sigmoid(logit!.data[i]!), xCf: cf });
    }
    return out;
  }
}

/** [n, 1, H, W] model-space slices to [n, 1, height, width] with the preprocessing's bilinear half-pixel resize. */
function resizeBatch(batch: Float32Tensor, height: number, width: number): Float32Tensor {
  const [n, , h, w] = batch.dims as [number, number, number, number];
  const data = new Float32Array(n * height * width);
  for (let i = 0; i < n; i++) {
    resizeBilinear({ width: w, height: h, data: batch.data.subarray(i * h * w, (i + 1) * h * w) }, height, width, data, i * height * width);
  }
  return { data, dims: [n, 1, height, width] };
}
