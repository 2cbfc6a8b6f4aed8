// ORT_EXECUTION_PROVIDERS: parsed by app/config, handed by the worker to ONNX Runtime, with a logged
// fallback to CPU where the CUDA provider does not load (as on these CI machines).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import { ConfigError, parseConfig } from "../../app/config/parse-config.ts";
import { startWorker } from "../../app/worker/start-worker.ts";
import { createDispatchHarness, type DispatchHarness } from "./support/dispatch-harness.ts";

describe("ORT_EXECUTION_PROVIDERS", () => {
  const parse = (value: string | undefined) => parseConfig({ ORT_EXECUTION_PROVIDERS: value }, ["ORT_EXECUTION_PROVIDERS"]).ORT_EXECUTION_PROVIDERS;

  it("should default to cpu and keep the configured order when parsed", () => {
    assert.deepEqual(parse(undefined), ["cpu"]);
    assert.deepEqual(parse("cuda,cpu"), ["cuda", "cpu"]);
    assert.deepEqual(parse(" cuda , cpu "), ["cuda", "cpu"]);
  });

  it("should refuse an unknown provider, an empty list and a repeated provider", () => {
    for (const [value, message] of [["tensorrt,cpu", /ORT_EXECUTION_PROVIDERS\.0: /], [",", /name at least one provider/], ["cpu,cpu", /listed twice/]] as const) {
      assert.throws(() => parse(value), (e: unknown) => e instanceof ConfigError && message.test(e.message), value);
    }
  });
});

describe("worker execution providers", () => {
  let h: DispatchHarness;
  before(async () => {
    h = await createDispatchHarness();
  });
  after(async () => {
    await h?.close();
  });

  /** A worker on the harness whose warn-level log lines are captured. */
  async function workerWith(executionProviders: readonly ("cuda" | "cpu")[] | undefined) {
    const lines: string[] = [];
    const logger = pino({ level: "warn" }, { write: (line: string) => void lines.push(line) });
    const settings = h.workerSettings({ relayOutbox: false, ...(executionProviders ? { executionProviders } : {}) });
    const worker = await startWorker(settings, logger);
    return { worker, warnings: () => lines.map((l) => JSON.parse(l) as { msg: string; provider?: string }) };
  }

  it("should run sessions on CUDA, or log the fallback to CPU, when the worker is configured with cuda,cpu", async () => {
    const { worker, warnings } = await workerWith(["cuda", "cpu"]);
    try {
      const provider = await worker.engine.providerOf("tiny-classifier");
      if (provider === "cpu") {
        assert.ok(warnings().some((w) => w.provider === "cuda" && /execution provider cuda unavailable; falling back/.test(w.msg)), JSON.stringify(warnings()));
      } else {
        assert.equal(provider, "cuda");
      }
    } finally {
      await worker.stop();
    }
  });

  it("should run on CPU without a fallback warning when no provider is configured", async () => {
    const { worker, warnings } = await workerWith(undefined);
    try {
      assert.equal(await worker.engine.providerOf("tiny-classifier"), "cpu");
      assert.deepEqual(warnings(), []);
    } finally {
      await worker.stop();
    }
  });
});
