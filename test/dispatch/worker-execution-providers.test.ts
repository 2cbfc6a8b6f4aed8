// ORT_EXECUTION_PROVIDERS: parsed by app/config, handed by the worker to ONNX Runtime, with a logged
// fallback to CPU where the CUDA provider does not load (as on these CI machines); and
// ORT_INTRA_OP_THREADS, the sessions' intra-op thread count; and ORT_ALLOW_SPINNING, whether their
// intra-op threads spin-wait after a run.
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

describe("ORT_INTRA_OP_THREADS", () => {
  const parse = (value: string | undefined) => parseConfig({ ORT_INTRA_OP_THREADS: value }, ["ORT_INTRA_OP_THREADS"]).ORT_INTRA_OP_THREADS;

  it("should default to 0 (ONNX Runtime's choice) and read a thread count when parsed", () => {
    assert.equal(parse(undefined), 0);
    assert.equal(parse("1"), 1);
    assert.equal(parse("8"), 8);
  });

  it("should refuse a negative, fractional or non-numeric thread count", () => {
    for (const value of ["-1", "1.5", "all"]) {
      assert.throws(() => parse(value), (e: unknown) => e instanceof ConfigError && /ORT_INTRA_OP_THREADS/.test(e.message), value);
    }
  });
});

describe("ORT_ALLOW_SPINNING", () => {
  const parse = (value: string | undefined) => parseConfig({ ORT_ALLOW_SPINNING: value }, ["ORT_ALLOW_SPINNING"]).ORT_ALLOW_SPINNING;

  it("should default to false and read true/false/1/0 when parsed", () => {
    assert.equal(parse(undefined), false);
    assert.equal(parse("true"), true);
    assert.equal(parse("1"), true);
    assert.equal(parse("0"), false);
  });

  it("should refuse a value that is not a boolean", () => {
    assert.throws(() => parse("yes"), (e: unknown) => e instanceof ConfigError && /ORT_ALLOW_SPINNING/.test(e.message));
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

  /** A worker on the harness whose log lines are captured (warn and above unless `level` says otherwise). */
  async function workerWith(executionProviders: readonly ("cuda" | "cpu")[] | undefined, extra: { intraOpNumThreads?: number; allowSpinning?: boolean; level?: string } = {}) {
    const lines: string[] = [];
    const logger = pino({ level: extra.level ?? "warn" }, { write: (line: string) => void lines.push(line) });
    const settings = h.workerSettings({
      relayOutbox: false, ...(executionProviders ? { executionProviders } : {}), ...(extra.intraOpNumThreads !== undefined ? { intraOpNumThreads: extra.intraOpNumThreads } : {}),
      ...(extra.allowSpinning !== undefined ? { allowSpinning: extra.allowSpinning } : {}),
    });
    const worker = await startWorker(settings, logger);
    const entries = () => lines.map((l) => JSON.parse(l) as { level: number; msg: string; provider?: string; modelKey?: string; intraOpNumThreads?: number; allowSpinning?: boolean });
    return { worker, entries, warnings: () => entries().filter((e) => e.level >= 40) };
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

  it("should create its sessions with the configured intra-op thread count when ORT_INTRA_OP_THREADS is set", async () => {
    const threads = parseConfig({ ORT_INTRA_OP_THREADS: "1" }, ["ORT_INTRA_OP_THREADS"]).ORT_INTRA_OP_THREADS;
    const { worker, entries } = await workerWith(undefined, { intraOpNumThreads: threads, level: "info" });
    try {
      await worker.engine.spec("tiny-classifier");
      const created = entries().filter((e) => e.msg === "inference session created" && e.modelKey === "tiny-classifier");
      assert.deepEqual(created.map((e) => e.intraOpNumThreads), [1]);
    } finally {
      await worker.stop();
    }
  });

  it("should create its sessions without spinning by default, and with it when ORT_ALLOW_SPINNING is true", async () => {
    for (const [allowSpinning, expected] of [[undefined, false], [parseConfig({ ORT_ALLOW_SPINNING: "true" }, ["ORT_ALLOW_SPINNING"]).ORT_ALLOW_SPINNING, true]] as const) {
      const { worker, entries } = await workerWith(undefined, { intraOpNumThreads: 2, level: "info", ...(allowSpinning !== undefined ? { allowSpinning } : {}) });
      try {
        // A 2-thread session runs either way; the log says which setting it was created with.
        const out = await worker.engine.run("tiny-classifier", { x: { data: new Float32Array(128 * 128), dims: [1, 1, 128, 128] } }, ["logit"]);
        assert.equal(out.logit!.data.length, 1);
        const created = entries().filter((e) => e.msg === "inference session created" && e.modelKey === "tiny-classifier");
        assert.deepEqual(created.map((e) => e.allowSpinning), [expected]);
      } finally {
        await worker.stop();
      }
    }
  });
});
