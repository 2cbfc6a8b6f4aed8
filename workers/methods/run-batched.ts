// Runs a model over many samples in fixed-size chunks and concatenates the outputs.
import { InferenceError } from "../errors/inference-error.ts";
import { elementCount, type Float32Tensor } from "../engine/float32-tensor.ts";
import type { InferenceEngine } from "../engine/inference-engine.port.ts";

/**
 * Splits every input along dimension 0 into chunks of at most `batchSize` samples, runs the model on
 * each chunk (one `engine.run` per chunk) and concatenates each requested output along dimension 0.
 * Inputs share their first dimension n. Chunks are views (no copies of the inputs).
 *
 * @param batchSize samples per forward pass (≥ 1)
 * @throws InferenceError INVALID_METHOD_INPUT for a bad batch size or inputs of different n;
 *   whatever `engine.run` throws.
 */
export async function runBatched(
  engine: InferenceEngine,
  modelKey: string,
  inputs: Readonly<Record<string, Float32Tensor>>,
  outputNames: readonly string[],
  batchSize: number,
): Promise<Record<string, Float32Tensor>> {
  if (!Number.isInteger(batchSize) || batchSize < 1) throw new InferenceError("INVALID_METHOD_INPUT", `batch size ${batchSize} must be a positive integer`);
  const names = Object.keys(inputs);
  const n = inputs[names[0]!]!.dims[0]!;
  for (const name of names) {
    if (inputs[name]!.dims[0] !== n) throw new InferenceError("INVALID_METHOD_INPUT", `input ${name} has batch ${inputs[name]!.dims[0]}, expected ${n}`);
  }
  const parts: Record<string, Float32Tensor>[] = [];
  for (let start = 0; start < n; start += batchSize) {
    const count = Math.min(batchSize, n - start);
    const chunk: Record<string, Float32Tensor> = {};
    for (const name of names) {
      const t = inputs[name]!;
      const per = elementCount(t.dims.slice(1));
      chunk[name] = { data: t.data.subarray(start * per, (start + count) * per), dims: [count, ...t.dims.slice(1)] };
    }
    parts.push(await engine.run(modelKey, chunk, outputNames));
  }
  if (parts.length === 1) return parts[0]!;
  const out: Record<string, Float32Tensor> = {};
  for (const name of outputNames) {
    const per = elementCount(parts[0]![name]!.dims.slice(1));
    const data = new Float32Array(n * per);
    let offset = 0;
    for (const part of parts) {
      data.set(part[name]!.data, offset);
      offset += part[name]!.data.length;
    }
    out[name] = { data, dims: [n, ...parts[0]![name]!.dims.slice(1)] };
  }
  return out;
}
