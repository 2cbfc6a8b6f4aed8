// The inference pipeline the service and the evaluation share: preprocess → classify → infer → postprocess.
import type { SegmentationMethod } from "../../core/domain/enums.ts";
import type { BinaryMask } from "../../imaging/mask/binary-mask.ts";
import { cleanUpMask } from "../../imaging/mask/clean-up-mask.ts";
import { refineMask } from "../../imaging/mask/refine-mask.ts";
import { thresholdMap } from "../../imaging/mask/threshold-map.ts";
import { maskArea } from "../../imaging/mask/mask-area.ts";
import { maskBoundingBox, type MaskBoundingBox } from "../../imaging/mask/mask-bounding-box.ts";
import { encodeRle } from "../../imaging/mask/rle.ts";
import { mapToNativeMask } from "../../imaging/mask/map-to-native-mask.ts";
import { preprocessSlices } from "../../imaging/preprocess/preprocess-slices.ts";
import type { PreprocessSpec } from "../../imaging/preprocess/preprocess-spec.ts";
import type { Image2D, VoxelArray } from "../../imaging/volume.ts";
import { refinementLowThreshold } from "../../core/domain/segmentation-params.ts";
import { InferenceError } from "../errors/inference-error.ts";
import type { Float32Tensor } from "../engine/float32-tensor.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { createMethodRunner } from "../methods/create-method-runner.ts";
import { RiseMaskCache } from "../methods/rise-mask-cache.ts";
import type { RiseParams } from "../methods/rise-method.ts";
import { runBatched } from "../methods/run-batched.ts";
import type { MethodInput } from "../methods/segmentation-method.ts";
import { sigmoid } from "../methods/sigmoid.ts";
import { StageTimer } from "../methods/stage-timer.ts";
import { differenceMapPng } from "./difference-map-png.ts";

/** Method parameters a job may set (InferenceTaskV1.params, validated by `parseSegmentationParams`). */
export interface SegmentationParams {
  /** Segment slices the classifier calls normal too (default false: they get an empty mask). */
  readonly forceSegmentation?: boolean;
  /** Apply the clean-up (3×3 open, 3×3 close, largest 8-component) to the mask (default false). */
  readonly cleanUp?: boolean;
  /**
   * Refine the mask instead (`refineMask`, default false): grow it into connected pixels whose map
   * value exceeds the lower threshold, then keep the largest 8-connected region. Excludes `cleanUp`.
   */
  readonly refine?: boolean;
  /**
   * The refinement's lower threshold (≤ the method's threshold); default: the generator's model.json
   * thresholds.hysteresis (calibrated on val). Saliency methods have none, so they need it. Only with `refine`.
   */
  readonly hysteresisThreshold?: number;
  /** COIN / SINGLA mask threshold (default: the generator's model.json, 0.25). */
  readonly maskThreshold?: number;
  /** Saliency threshold (default: the classifier's model.json, 0.975). */
  readonly saliencyThreshold?: number;
  /** RISE N, s, p1, seed (defaults 6000, 8, 0.1, 0). */
  readonly rise?: Partial<RiseParams>;
  /** Samples per forward pass (method defaults when unset). */
  readonly batchSize?: number;
  /** Attach the model-size difference / saliency map as a greyscale PNG (default false). */
  readonly differencePng?: boolean;
}

/** One request: slices of one method with one model pair. */
export interface SegmentSlicesRequest {
  readonly method: SegmentationMethod;
  /** The frozen classifier (a CLASSIFIER model key). */
  readonly classifierKey: string;
  /** COIN: a COIN_GENERATOR key; SINGLA: a SINGLA_GENERATOR key; ignored otherwise. */
  readonly generatorKey?: string;
  /** Native axial slices in HU (row = j, column = i). */
  readonly slices: readonly Image2D<VoxelArray | Float64Array>[];
  readonly params?: SegmentationParams;
}

/** The outcome for one slice. Masks in two grids: model size (`model`) and native (the rest). */
export interface SliceSegmentation {
  /** P(abnormal) of the input slice, σ(f(X)). */
  readonly pBefore: number;
  /** P(abnormal) of the counterfactual (counterfactual methods); equals pBefore otherwise. */
  readonly pAfter: number;
  /** pBefore > thresholds.abnormal. */
  readonly abnormal: boolean;
  /** False when the slice was called normal and not forced: its mask is empty. */
  readonly segmented: boolean;
  /** Counterfactual methods: the slice was abnormal and the counterfactual is classified normal. */
  readonly flipped: boolean;
  readonly model: {
    readonly width: number;
    readonly height: number;
    /** The preprocessed input, [−1, 1]. */
    readonly x: Float32Array;
    /** Difference map (COIN, SINGLA) or normalised saliency; null when not segmented. */
    readonly map: Float32Array | null;
    /** The mask before clean-up. */
    readonly rawMask: BinaryMask;
    /** The final mask (after clean-up when requested). */
    readonly mask: BinaryMask;
  };
  /**
   * The final mask on the native slice grid: the model-size map upsampled bilinearly to the native
   * size and thresholded there with the method's threshold (`mapToNativeMask`), then the clean-up on
   * the native grid when requested. `model.mask` is the same rule at model size (the paper's grid).
   */
  readonly mask: BinaryMask;
  /** imaging/mask/rle.ts encoding of the native mask. */
  readonly maskRle: string;
  /** Native-grid bounding box, or null for an empty mask. */
  readonly bbox: MaskBoundingBox | null;
  /** Native-grid foreground pixel count. */
  readonly areaPx: number;
  /** Greyscale PNG of `model.map` when `params.differencePng`. */
  readonly differencePng?: Uint8Array;
  /**
   * Milliseconds per stage for this slice: each stage's batch time shared equally among the slices
   * that went through it (preprocess, classify, infer, postprocess, total).
   */
  readonly timingsMs: Readonly<Record<string, number>>;
}

/** Options of {@link SegmentationPipeline}. */
export interface SegmentationPipelineOptions {
  readonly engine: InferenceEngine;
  /** Shared across pipelines so RISE masks are generated once (default: one owned by the pipeline). */
  readonly riseMaskCache?: RiseMaskCache;
}

/**
 * Segments a batch of native HU slices with one method (DESIGN.md §1), in four timed stages:
 *
 * 1. preprocess: window → [−1, 1] → bilinear resize to the classifier's size (its model.json), and to
 *    the generator's when it works at a multiple of it (the method's grid is then the generator's);
 * 2. classify: one batched classifier pass → logits, target-layer activations and gradients;
 * 3. infer: the method on the slices to segment (abnormal ones, or all with `forceSegmentation`);
 * 4. postprocess: optional clean-up; the native mask from the map upsampled to the slice's grid; RLE,
 *    bbox, area, optional PNG.
 *
 * Errors: MODEL_KIND_MISMATCH (classifier not a CLASSIFIER; generator window or resize differs from
 * the classifier's, or its size is not a whole multiple of the classifier's), INVALID_METHOD_INPUT, imaging INVALID_ARGUMENT for malformed slices, and the
 * engine's codes.
 */
export class SegmentationPipeline {
  private readonly riseMaskCache: RiseMaskCache;

  constructor(private readonly options: SegmentationPipelineOptions) {
    // One cache per pipeline at least, so RISE masks are generated once, not once per request.
    this.riseMaskCache = options.riseMaskCache ?? new RiseMaskCache();
  }

  async segment(request: SegmentSlicesRequest): Promise<SliceSegmentation[]> {
    const { engine } = this.options;
    const params = request.params ?? {};
    const timer = new StageTimer();
    const classifier = await engine.spec(request.classifierKey);
    if (classifier.kind !== "CLASSIFIER") {
      throw new InferenceError("MODEL_KIND_MISMATCH", `${request.classifierKey} is a ${classifier.kind}, not a CLASSIFIER`);
    }
    const counterfactual = request.method === "COIN" || request.method === "SINGLA";
    const generator = counterfactual && request.generatorKey ? await engine.spec(request.generatorKey) : undefined;
    if (generator && !preprocessesAlike(generator.preprocess, classifier.preprocess)) {
      throw new InferenceError("MODEL_KIND_MISMATCH", `${request.generatorKey} and ${request.classifierKey} preprocess differently`);
    }
    const refinement = refinementLowThreshold(params, counterfactual ? generator?.thresholds.hysteresis : undefined,
      counterfactual ? params.maskThreshold ?? generator?.thresholds.mask : params.saliencyThreshold ?? classifier.thresholds.saliency);
    if ("problem" in refinement) throw new InferenceError("INVALID_METHOD_INPUT", refinement.problem);
    const lowThreshold = refinement.low;
    const runner = createMethodRunner(request.method, {
      engine,
      classifierKey: request.classifierKey,
      ...(request.generatorKey !== undefined ? { generatorKey: request.generatorKey } : {}),
      ...(params.maskThreshold !== undefined ? { maskThreshold: params.maskThreshold } : {}),
      ...(params.saliencyThreshold !== undefined ? { saliencyThreshold: params.saliencyThreshold } : {}),
      ...(params.rise !== undefined ? { rise: params.rise } : {}),
      ...(params.batchSize !== undefined ? { batchSize: params.batchSize } : {}),
      riseMaskCache: this.riseMaskCache,
    });
    const n = request.slices.length;
    // The method's grid: the classifier's size, or a generator's own when it works above it.
    const [height, width] = (generator ?? classifier).preprocess.size;
    const plane = height * width;
    const aboveClassifier = generator !== undefined && JSON.stringify(generator.preprocess.size) !== JSON.stringify(classifier.preprocess.size);

    const { x, generatorX } = await timer.time("preprocess", () => {
      const toTensor = (b: { data: Float32Array; shape: readonly number[] }): Float32Tensor => ({ data: b.data, dims: [...b.shape] });
      return {
        x: toTensor(preprocessSlices(request.slices, classifier.preprocess)),
        generatorX: aboveClassifier ? toTensor(preprocessSlices(request.slices, generator.preprocess)) : undefined,
      };
    });
    const cls = await timer.time("classify", () =>
      runBatched(engine, request.classifierKey, { x }, ["logit", "activations", "activations_grad"], params.batchSize ?? 16),
    );
    const logits = cls.logit!.data;
    const pBefore = Array.from(logits, sigmoid);
    const abnormal = pBefore.map((p) => p > classifier.thresholds.abnormal);
    const selected = [...Array(n).keys()].filter((i) => params.forceSegmentation || abnormal[i]);

    const outputs = await timer.time("infer", async () => {
      if (selected.length === 0) return [];
      const input: MethodInput = { x, logits, activations: cls.activations!, activationsGrad: cls.activations_grad!, ...(generatorX ? { generatorX } : {}) };
      return runner.run(pickSamples(input, selected));
    });

    const postStart = performance.now();
    const byIndex = new Map(selected.map((i, j) => [i, outputs[j]!]));
    const empty: BinaryMask = { width, height, data: new Uint8Array(plane) };
    const results = request.slices.map((slice, i) => {
      const out = byIndex.get(i);
      const rawMask = out?.mask ?? empty;
      // The final mask from the thresholded one, on either grid: clean-up, refinement or as is.
      const finish = (strong: BinaryMask, weak: (low: number) => BinaryMask): BinaryMask =>
        params.cleanUp ? cleanUpMask(strong) : lowThreshold !== undefined ? refineMask(strong, weak(lowThreshold)) : strong;
      const mask = out ? finish(rawMask, (low) => thresholdMap(out.map, width, height, low)) : rawMask;
      let native: BinaryMask = { width: slice.width, height: slice.height, data: new Uint8Array(slice.width * slice.height) };
      if (out) {
        const toNative = (t: number): BinaryMask => mapToNativeMask({ width, height, data: out.map }, slice.height, slice.width, t);
        native = finish(toNative(out.threshold), toNative);
      }
      const pAfter = out?.pAfter ?? pBefore[i]!;
      return {
        pBefore: pBefore[i]!,
        pAfter,
        abnormal: abnormal[i]!,
        segmented: out !== undefined,
        flipped: out?.pAfter != null && abnormal[i]! && !(pAfter > classifier.thresholds.abnormal),
        model: { width, height, x: (generatorX ?? x).data.slice(i * plane, (i + 1) * plane), map: out?.map ?? null, rawMask, mask },
        mask: native,
        maskRle: encodeRle(native),
        bbox: maskBoundingBox(native),
        areaPx: maskArea(native),
        ...(params.differencePng && out ? { differencePng: differenceMapPng(out.map, width, height) } : {}),
      };
    });
    timer.add("postprocess", performance.now() - postStart);

    const share = (stage: string, count: number) => (count > 0 ? timer.get(stage) / count : 0);
    return results.map((r, i) => {
      const timingsMs = {
        preprocess: share("preprocess", n),
        classify: share("classify", n),
        infer: byIndex.has(i) ? share("infer", selected.length) : 0,
        postprocess: share("postprocess", n),
      };
      return { ...r, timingsMs: { ...timingsMs, total: timingsMs.preprocess + timingsMs.classify + timingsMs.infer + timingsMs.postprocess } };
    });
  }
}

function pickSamples(input: MethodInput, indices: readonly number[]): MethodInput {
  if (indices.length === input.logits.length) return input;
  const pick = (t: Float32Tensor): Float32Tensor => {
    const per = t.data.length / t.dims[0]!;
    const data = new Float32Array(indices.length * per);
    indices.forEach((src, dst) => data.set(t.data.subarray(src * per, (src + 1) * per), dst * per));
    return { data, dims: [indices.length, ...t.dims.slice(1)] };
  };
  return {
    x: pick(input.x),
    logits: Float32Array.from(indices, (i) => input.logits[i]!),
    activations: pick(input.activations),
    activationsGrad: pick(input.activationsGrad),
    ...(input.generatorX ? { generatorX: pick(input.generatorX) } : {}),
  };
}

/**
 * A generator fits a classifier when both window and resample alike and the generator's size is a whole
 * multiple of the classifier's (equal, or e.g. the native 256 for a 128 classifier: the classifier then
 * judges x_cf resized to its own size, as in training).
 */
function preprocessesAlike(generator: PreprocessSpec, classifier: PreprocessSpec): boolean {
  const multiple = (g: number, c: number): boolean => g >= c && g % c === 0;
  return (
    JSON.stringify(generator.windowHU) === JSON.stringify(classifier.windowHU) &&
    generator.resize === classifier.resize &&
    multiple(generator.size[0], classifier.size[0]) &&
    multiple(generator.size[1], classifier.size[1])
  );
}

