// What the methods need from an inference runtime (implemented by adapters/onnx/onnx-inference-engine.ts).
import type { Float32Tensor } from "./float32-tensor.ts";
import type { ModelSpec } from "./model-spec.ts";

/**
 * Runs registered models by key. Implementations create one session per model, reuse it, and
 * verify the model file against its spec before the first run.
 *
 * Errors: MODEL_NOT_FOUND, MODEL_INTEGRITY_FAILED, MODEL_SPEC_INVALID (permanent);
 * INFERENCE_FAILED (the runtime failed; transient).
 */
export interface InferenceEngine {
  /** The validated model.json of `modelKey`. */
  spec(modelKey: string): Promise<ModelSpec>;
  /**
   * Runs the model once on a batch. `inputs` are keyed by graph input name (all sharing the batch
   * dimension); returns the requested outputs (default: every output in the spec) keyed by name.
   */
  run(
    modelKey: string,
    inputs: Readonly<Record<string, Float32Tensor>>,
    outputNames?: readonly string[],
  ): Promise<Record<string, Float32Tensor>>;
}
