// Builds the runner of a segmentation method from its name, models and parameters.
import type { SegmentationMethod } from "../../core/domain/enums.ts";
import { InferenceError } from "../errors/inference-error.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";
import { CounterfactualMethod } from "./counterfactual-method.ts";
import { LayerCamMethod } from "./layer-cam-method.ts";
import type { RiseMaskCache } from "./rise-mask-cache.ts";
import { RiseMethod, type RiseParams } from "./rise-method.ts";
import { ScoreCamMethod } from "./score-cam-method.ts";
import type { SegmentationMethodRunner } from "./segmentation-method.ts";

/** Everything a method runner may need; unused fields are ignored by methods that do not need them. */
export interface MethodRunnerOptions {
  readonly engine: InferenceEngine;
  readonly classifierKey: string;
  /** Required for COIN (a COIN_GENERATOR) and SINGLA (a SINGLA_GENERATOR). */
  readonly generatorKey?: string;
  /** COIN / SINGLA: mask threshold override (default from the generator's model.json, 0.25). */
  readonly maskThreshold?: number;
  /** Saliency methods: threshold override (default from the classifier's model.json, 0.975). */
  readonly saliencyThreshold?: number;
  /** RISE parameters (defaults N = 6000, s = 8, p1 = 0.1, seed 0). */
  readonly rise?: Partial<RiseParams>;
  /** Shared RISE mask cache. */
  readonly riseMaskCache?: RiseMaskCache;
  /** Samples per forward pass (method defaults when unset). */
  readonly batchSize?: number;
}

/**
 * Returns the runner for `method`.
 * @throws InferenceError INVALID_METHOD_INPUT when COIN or SINGLA is asked for without a generator key.
 */
export function createMethodRunner(method: SegmentationMethod, options: MethodRunnerOptions): SegmentationMethodRunner {
  const { engine, classifierKey, batchSize } = options;
  const common = { engine, classifierKey, ...(batchSize !== undefined ? { batchSize } : {}) };
  const saliency = options.saliencyThreshold !== undefined ? { saliencyThreshold: options.saliencyThreshold } : {};
  switch (method) {
    case "COIN":
    case "SINGLA": {
      if (!options.generatorKey) throw new InferenceError("INVALID_METHOD_INPUT", `${method} needs a generator model`);
      return new CounterfactualMethod(method, {
        ...common,
        generatorKey: options.generatorKey,
        ...(options.maskThreshold !== undefined ? { maskThreshold: options.maskThreshold } : {}),
      });
    }
    case "RISE":
      return new RiseMethod({
        ...common,
        ...saliency,
        ...(options.rise ? { params: options.rise } : {}),
        ...(options.riseMaskCache ? { maskCache: options.riseMaskCache } : {}),
      });
    case "SCORE_CAM":
      return new ScoreCamMethod({ ...common, ...saliency });
    case "LAYER_CAM":
      return new LayerCamMethod({ engine, classifierKey, ...saliency });
  }
}
