import assert from "node:assert/strict";
import { cpSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after, describe, it } from "node:test";
import { ModelDirectoryRegistry } from "../../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../../adapters/onnx/onnx-inference-engine.ts";
import { isInferenceError } from "../../workers/errors/inference-error.ts";
import { FIXTURE_MODELS_DIR, maxAbsDiff, readFloat32, tinyEngine } from "./support/tiny-models.ts";

const engine = tinyEngine();
after(() => engine.release());

describe("OnnxInferenceEngine", () => {
  for (const key of ["tiny-classifier", "tiny-coin", "tiny-singla"]) {
    it(`should reproduce the PyTorch golden outputs within 1e-4 when running ${key}`, async () => {
      const spec = await engine.spec(key);
      assert.ok(spec.golden, "fixture has goldens");
      const inputs = Object.fromEntries(
        Object.entries(spec.golden.inputs).map(([name, g]) => [name, { data: readFloat32(`${key}/${g.file}`), dims: g.shape }]),
      );
      const out = await engine.run(key, inputs);
      for (const [name, g] of Object.entries(spec.golden.outputs)) {
        assert.deepEqual(out[name]!.dims, g.shape, `${name} shape`);
        const diff = maxAbsDiff(out[name]!.data, readFloat32(`${key}/${g.file}`));
        assert.ok(diff <= 1e-4, `${key}.${name}: max |Δ| = ${diff}`);
      }
    });
  }

  it("should create one session per model when the same model runs many times", async () => {
    const local = tinyEngine();
    const x = { data: new Float32Array(2 * 128 * 128), dims: [2, 1, 128, 128] };
    await Promise.all([local.run("tiny-coin", { x }), local.run("tiny-coin", { x }), local.spec("tiny-coin")]);
    await local.run("tiny-coin", { x });
    assert.equal(local.sessionCount, 1);
    await local.release();
  });

  it("should give the same outputs per sample when inputs are batched", async () => {
    const x = readFloat32("tiny-classifier/golden/x.bin");
    const plane = 128 * 128;
    const batched = await engine.run("tiny-classifier", { x: { data: x, dims: [4, 1, 128, 128] } }, ["logit"]);
    for (let i = 0; i < 4; i++) {
      const single = await engine.run("tiny-classifier", { x: { data: x.slice(i * plane, (i + 1) * plane), dims: [1, 1, 128, 128] } }, ["logit"]);
      assert.ok(Math.abs(single.logit!.data[0]! - batched.logit!.data[i]!) < 1e-5, `sample ${i}`);
    }
  });

  it("should reject with INVALID_METHOD_INPUT when the input size differs from model.json", async () => {
    const x = { data: new Float32Array(64 * 64), dims: [1, 1, 64, 64] };
    await assert.rejects(engine.run("tiny-coin", { x }), (e: unknown) => isInferenceError(e, "INVALID_METHOD_INPUT") && /\[-1, 1, 128, 128\]/.test(e.message));
  });

  it("should throw MODEL_NOT_FOUND when the key is not in the registry", async () => {
    await assert.rejects(engine.run("no-such-model", {}), (e: unknown) => isInferenceError(e, "MODEL_NOT_FOUND"));
    await assert.rejects(engine.spec("../etc"), (e: unknown) => isInferenceError(e, "MODEL_NOT_FOUND"));
  });

  describe("with a tampered model directory", () => {
    const root = mkdtempSync(join(tmpdir(), "coinseg-models-"));
    after(() => rmSync(root, { recursive: true, force: true }));

    it("should refuse with MODEL_INTEGRITY_FAILED when model.onnx does not match its sha256", async () => {
      cpSync(join(FIXTURE_MODELS_DIR, "tiny-coin"), join(root, "tiny-coin"), { recursive: true });
      const file = join(root, "tiny-coin", "model.onnx");
      const bytes = readFileSync(file);
      bytes[bytes.length - 1]! ^= 0xff;
      writeFileSync(file, bytes);
      const local = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(root) });
      const x = { data: new Float32Array(128 * 128), dims: [1, 1, 128, 128] };
      await assert.rejects(local.run("tiny-coin", { x }), (e: unknown) => isInferenceError(e, "MODEL_INTEGRITY_FAILED") && e.permanent);
      assert.equal(local.sessionCount, 0, "a refused model leaves no session behind");
    });

    it("should reject with MODEL_SPEC_INVALID when model.json misses a required output", async () => {
      cpSync(join(FIXTURE_MODELS_DIR, "tiny-classifier"), join(root, "tiny-classifier"), { recursive: true });
      const specFile = join(root, "tiny-classifier", "model.json");
      const spec = JSON.parse(readFileSync(specFile, "utf8"));
      spec.outputs = spec.outputs.filter((o: { name: string }) => o.name !== "activations_grad");
      writeFileSync(specFile, JSON.stringify(spec));
      await assert.rejects(new ModelDirectoryRegistry(root).spec("tiny-classifier"), (e: unknown) => isInferenceError(e, "MODEL_SPEC_INVALID") && /activations_grad/.test(e.message));
    });
  });

  it("should run on CUDA or log a fallback to CPU when CUDA is configured first", async () => {
    const warnings: string[] = [];
    const local = new OnnxInferenceEngine({
      registry: new ModelDirectoryRegistry(FIXTURE_MODELS_DIR),
      executionProviders: ["cuda", "cpu"],
      logger: { info: () => {}, warn: (_f, message) => warnings.push(message) },
    });
    const provider = await local.providerOf("tiny-coin");
    if (provider === "cpu") assert.match(warnings.join("\n"), /cuda unavailable; falling back/);
    else assert.equal(provider, "cuda");
    const out = await local.run("tiny-coin", { x: { data: new Float32Array(128 * 128), dims: [1, 1, 128, 128] } });
    assert.equal(out.x_cf!.data.length, 128 * 128);
    await local.release();
  });
});
