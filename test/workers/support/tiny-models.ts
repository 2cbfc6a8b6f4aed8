// Helpers for tests on the tiny fixture models (test/fixtures/make_tiny_models.py).
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import { ModelDirectoryRegistry } from "../../../adapters/onnx/model-directory-registry.ts";
import { readFloat32File } from "../../../adapters/onnx/float32-file.ts";
import { OnnxInferenceEngine } from "../../../adapters/onnx/onnx-inference-engine.ts";
import type { MethodInput } from "../../../workers/methods/segmentation-method.ts";

/** Folder of the tiny models and references. */
export const FIXTURE_MODELS_DIR = fileURLToPath(new URL("../../fixtures/models/", import.meta.url));

/** Reads a raw little-endian float32 file under the fixtures folder. */
export function readFloat32(relativePath: string): Float32Array {
  return readFloat32File(join(FIXTURE_MODELS_DIR, relativePath));
}

/** A CPU engine on the fixture registry (2 threads). */
export function tinyEngine(): OnnxInferenceEngine {
  return new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(FIXTURE_MODELS_DIR), intraOpNumThreads: 2 });
}

/** The golden input batch [4, 1, 128, 128] and the classifier's outputs on it, as a MethodInput. */
export async function tinyMethodInput(engine: OnnxInferenceEngine, indices?: readonly number[]): Promise<MethodInput> {
  const all = readFloat32("tiny-classifier/golden/x.bin");
  const plane = 128 * 128;
  const pick = indices ?? [0, 1, 2, 3];
  const x = new Float32Array(pick.length * plane);
  pick.forEach((src, dst) => x.set(all.subarray(src * plane, (src + 1) * plane), dst * plane));
  const dims = [pick.length, 1, 128, 128];
  const out = await engine.run("tiny-classifier", { x: { data: x, dims } });
  return {
    x: { data: x, dims },
    logits: out.logit!.data,
    activations: out.activations!,
    activationsGrad: out.activations_grad!,
  };
}

/** Largest absolute difference between two arrays of equal length (Infinity when lengths differ). */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i]! - b[i]!));
  return m;
}
