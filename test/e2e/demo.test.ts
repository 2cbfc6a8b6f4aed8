// The first-command demo (app/demo/run-demo.ts) against a real embedded server with the tiny fixture models.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { PNG } from "pngjs";
import { pino } from "pino";
import { runDemo } from "../../app/demo/run-demo.ts";
import { startEmbedded, type EmbeddedInstance } from "../../app/start-embedded.ts";
import { ModelDirectoryRegistry } from "../../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../../adapters/onnx/onnx-inference-engine.ts";
import { PipelineTaskHandler } from "../../workers/pipeline/pipeline-task-handler.ts";
import { SegmentationPipeline } from "../../workers/pipeline/segmentation-pipeline.ts";
import { FIXTURE_MODELS_DIR } from "../workers/support/tiny-models.ts";

describe("first-command demo", () => {
  let dir: string;
  const instances: EmbeddedInstance[] = [];

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-demo-"));
  });
  after(async () => {
    for (const i of instances) await i.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function start(modelsDir: string): Promise<EmbeddedInstance> {
    const instance = await startEmbedded(
      {
        modelsDir, pgliteDataDir: "memory://", localStoreDir: path.join(dir, `store-${instances.length}`), host: "127.0.0.1", port: 0,
        jwt: { secret: "d".repeat(40), issuer: "coinseg", audience: "coinseg-api" }, introspection: true, maxDepth: 12, maxCost: 20000,
        uploadMaxBytes: 64 << 20, uploadUrlTtlSeconds: 60,
      },
      pino({ level: "silent" }),
      (deps) => {
        const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(modelsDir), executionProviders: ["cpu"] });
        return new PipelineTaskHandler({ pipeline: new SegmentationPipeline({ engine }), engine, sink: deps.sink, bus: deps.bus, store: deps.store, slices: deps.slices });
      },
    );
    instances.push(instance);
    return instance;
  }

  function capture(): { stream: Writable; text: () => string } {
    let text = "";
    return { stream: new Writable({ write(chunk, _e, cb) { text += String(chunk); cb(); } }), text: () => text };
  }

  it("should stream one result per slice of the phantom study and write an overlay PNG when a COIN model is registered", async () => {
    const instance = await start(FIXTURE_MODELS_DIR);
    const out = capture();
    const outcome = await runDemo({ graphqlUrl: instance.server.graphqlUrl, apiKey: instance.bootstrap.apiKey, outDir: dir, slices: 12, out: out.stream, progressBar: false });
    assert.equal(outcome.status, "SUCCEEDED", out.text());
    assert.deepEqual([outcome.method, outcome.modelKey], ["COIN", "tiny-coin"]);
    assert.deepEqual([...outcome.streamedSlices].sort((a, b) => a - b), Array.from({ length: 12 }, (_, i) => i));
    assert.equal(out.text().match(/^ {2}\[[#-]+ +\d+\/12\] slice /gm)?.length, 12);
    // The phantom's target masks were stored as reference masks and the job scored against them.
    const e = outcome.evaluation!;
    assert.ok(e.positiveSlices >= 1 && e.positiveSlices <= 12, JSON.stringify(e));
    assert.ok(e.pooledIoU !== null && e.pooledIoU >= 0 && e.pooledIoU <= 1, JSON.stringify(e));
    assert.match(out.text(), new RegExp(`^demo: stored the phantom's target masks as reference masks \\(${e.positiveSlices} slices hold a target\\)$`, "m"));
    assert.match(out.text(), /^demo: against the reference masks: pooled IoU \d\.\d{3}, Dice \d\.\d{3} over \d+ slices with a target; \d+ slices without one got a mask$/m);
    const png = PNG.sync.read(await readFile(outcome.overlayPng!));
    assert.deepEqual([png.width, png.height], [256, 256]);
  });
});
