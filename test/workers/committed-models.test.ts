// Parity of every committed model (models/*/model.json) under onnxruntime-node: the TypeScript
// engine, fed each model's golden input, must reproduce the PyTorch outputs written at export
// (golden.torchOutputs, *.torch.bin) within 1e-4 (issue 5: "for every model").
import assert from "node:assert/strict";
import { existsSync, readdirSync, readFileSync } from "node:fs";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { fileURLToPath } from "node:url";
import { readFloat32File } from "../../adapters/onnx/float32-file.ts";
import { ModelDirectoryRegistry } from "../../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../../adapters/onnx/onnx-inference-engine.ts";
import { maxAbsDiff } from "./support/tiny-models.ts";

const MODELS_DIR = fileURLToPath(new URL("../../models/", import.meta.url));
const TOLERANCE = 1e-4;

type GoldenEntries = Record<string, { file: string; shape: number[] }>;
interface GoldenDoc {
  inputs: GoldenEntries;
  outputs: GoldenEntries;
  torchOutputs?: GoldenEntries;
}

const keys = existsSync(MODELS_DIR)
  ? readdirSync(MODELS_DIR).filter((d) => existsSync(join(MODELS_DIR, d, "model.json"))).sort()
  : [];

describe("committed models under onnxruntime-node", () => {
  const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(MODELS_DIR), intraOpNumThreads: 2 });
  after(() => engine.release());

  it("should hold a classifier, a COIN and a Singla* generator for every committed benchmark", () => {
    const benchmarks = new Set(keys.map((k) => k.replace(/-(classifier|coin|singla)$/, "")));
    assert.ok(benchmarks.size >= 1, `no model in ${MODELS_DIR}`);
    for (const b of benchmarks) {
      assert.deepEqual(["classifier", "coin", "singla"].filter((role) => !keys.includes(`${b}-${role}`)), [], `${b}: missing models`);
    }
  });

  for (const key of keys) {
    it(`should reproduce the PyTorch golden outputs of ${key} within ${TOLERANCE}`, async () => {
      const doc = JSON.parse(readFileSync(join(MODELS_DIR, key, "model.json"), "utf8")) as { golden?: GoldenDoc };
      const golden = doc.golden;
      assert.ok(golden?.torchOutputs, `${key}: model.json has no golden.torchOutputs`);
      const inputs = Object.fromEntries(
        Object.entries(golden.inputs).map(([name, g]) => [name, { data: readFloat32File(join(MODELS_DIR, key, g.file)), dims: g.shape }]),
      );
      const out = await engine.run(key, inputs);
      const torchOutputs: GoldenEntries = golden.torchOutputs;
      const names = Object.keys(torchOutputs);
      assert.ok(names.length > 0);
      for (const name of names) {
        const ref = torchOutputs[name]!;
        assert.deepEqual(out[name]?.dims, ref.shape, `${key}.${name} shape`);
        const diff = maxAbsDiff(out[name]!.data, readFloat32File(join(MODELS_DIR, key, ref.file)));
        assert.ok(diff <= TOLERANCE, `${key}.${name}: max |ONNX Runtime (node) − PyTorch| = ${diff}`);
      }
    });
  }
});
