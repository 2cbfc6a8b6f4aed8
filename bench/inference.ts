// Inference benchmark: ms/slice and slices/s per method (1 and 2 threads, batch 1 and 8), ONNX Runtime
// vs PyTorch eager on the same models and input, RISE N=6000 vs COIN, peak memory. The engine runs as
// the service does (intra-op threads do not spin-wait); the 2-thread method rows are also measured
// with spinning allowed (ORT_ALLOW_SPINNING=true), in the same run, for the comparison.
// Usage: npm run bench:inference -- [--benchmark kidney-blob] [--models models] [--runs runs]
//          [--iters 20] [--warmup 3] [--rise-n 6000] [--no-torch] [--out bench/results/inference.json]
// Not a test: prints a table and writes JSON (STYLE.md). Close other CPU-heavy jobs for clean numbers.
import { spawnSync } from "node:child_process";
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { cpus, tmpdir } from "node:os";
import { dirname, join } from "node:path";
import { parseArgs } from "node:util";
import type { SegmentationMethod } from "../core/domain/enums.ts";
import { ModelDirectoryRegistry } from "../adapters/onnx/model-directory-registry.ts";
import { readFloat32File } from "../adapters/onnx/float32-file.ts";
import { OnnxInferenceEngine } from "../adapters/onnx/onnx-inference-engine.ts";
import type { Image2D } from "../imaging/volume.ts";
import { RiseMaskCache } from "../workers/methods/rise-mask-cache.ts";
import { SegmentationPipeline } from "../workers/pipeline/segmentation-pipeline.ts";

const { values } = parseArgs({
  options: {
    benchmark: { type: "string", default: "kidney-blob" },
    models: { type: "string", default: "models" },
    runs: { type: "string", default: "runs" },
    iters: { type: "string", default: "20" },
    warmup: { type: "string", default: "3" },
    "rise-n": { type: "string", default: "6000" },
    "no-torch": { type: "boolean", default: false },
    out: { type: "string", default: "bench/results/inference.json" },
  },
});
const iters = Number(values.iters);
const warmup = Number(values.warmup);
const riseN = Number(values["rise-n"]);
const THREADS = [1, 2];
const BATCHES = [1, 8];
const allKeys = { classifier: `${values.benchmark}-classifier`, coin: `${values.benchmark}-coin`, singla: `${values.benchmark}-singla` };
const registry = new ModelDirectoryRegistry(values.models!);
const classifierSpec = await registry.spec(allKeys.classifier);
// Generators not exported yet are left out (and their methods), and the output says so.
const keys: Partial<typeof allKeys> & { classifier: string } = { classifier: allKeys.classifier };
const missing: string[] = [];
for (const role of ["coin", "singla"] as const) {
  if ((await registry.keys()).includes(allKeys[role])) keys[role] = allKeys[role];
  else missing.push(allKeys[role]);
}
if (missing.length > 0) console.warn(`warning: ${missing.join(", ")} not in ${values.models}; their rows are skipped`);
const median = (xs: number[]): number => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

// The same input for both runtimes: each model's first golden slice (at its own size: a generator may
// work above the classifier's), tiled to the batch.
async function firstGoldenSlice(key: string): Promise<{ x1: Float32Array; height: number; width: number }> {
  const spec = await registry.spec(key);
  const goldenX = spec.golden?.inputs.x;
  if (!goldenX) throw new Error(`${key} has no golden x`);
  const [height, width] = spec.preprocess.size;
  return { x1: readFloat32File(join(values.models!, key, goldenX.file)).slice(0, height * width), height, width };
}
const tile = (x1: Float32Array, b: number): Float32Array => {
  const out = new Float32Array(b * x1.length);
  for (let i = 0; i < b; i++) out.set(x1, i * x1.length);
  return out;
};
// The methods' slice: the golden slice of the largest model (the native grid when a generator works there).
const sliceModel = (await Promise.all(Object.values(keys).map(firstGoldenSlice))).reduce((a, b) => (b.height * b.width > a.height * a.width ? b : a));
const { x1, height, width } = sliceModel;

// 1. PyTorch eager, in its own process first (so the two runtimes never share the CPU).
interface TorchRow { model: string; threads: number; batch: number; msPerForward: number }
// randomWeights: models the PyTorch side built from their card (no checkpoint under --runs): same
// layers and cost, other outputs, so their output check is skipped.
let torch: { runtime: string; results: TorchRow[]; cond: number[]; maxRssKB: number; randomWeights: string[] } | null = null;
const torchOut = mkdtempSync(join(tmpdir(), "coinseg-torch-bench-"));
if (!values["no-torch"]) {
  const args = ["bench/inference_torch.py", "--runs", values.runs!, "--models", values.models!, "--benchmark", values.benchmark!,
    "--roles", Object.keys(keys).join(","), "--threads", THREADS.join(","), "--batches", BATCHES.join(","), "--iters", String(iters), "--warmup", String(warmup), "--out", torchOut];
  const r = spawnSync("python3", args, { encoding: "utf8", maxBuffer: 64 << 20 });
  if (r.status !== 0) throw new Error(`PyTorch side failed (${r.status}): ${r.stderr.split("\n").filter((l) => !l.includes("NNPACK")).join("\n")}`);
  torch = JSON.parse(r.stdout);
}

// 2. ONNX Runtime: raw forwards of each model, same input, same thread counts and batches.
interface ForwardRow { model: string; threads: number; batch: number; ortMsPerForward: number; torchMsPerForward: number | null; torchOverOrt: number | null }
const forwards: ForwardRow[] = [];
const parity: Record<string, number> = {};
const singlaCondition = torch?.cond[0] ?? 0;
for (const threads of THREADS) {
  const engine = new OnnxInferenceEngine({ registry, intraOpNumThreads: threads });
  for (const key of Object.values(keys)) {
    const spec = await engine.spec(key);
    const own = await firstGoldenSlice(key);
    for (const batch of BATCHES) {
      const inputs: Record<string, { data: Float32Array; dims: number[] }> = { x: { data: tile(own.x1, batch), dims: [batch, 1, own.height, own.width] } };
      if (spec.kind === "SINGLA_GENERATOR") inputs.condition = { data: new Float32Array(batch).fill(singlaCondition), dims: [batch] };
      for (let i = 0; i < warmup; i++) await engine.run(key, inputs);
      const times: number[] = [];
      for (let i = 0; i < iters; i++) {
        const t0 = performance.now();
        await engine.run(key, inputs);
        times.push(performance.now() - t0);
      }
      const ort = median(times);
      const t = torch?.results.find((r) => r.model === key && r.threads === threads && r.batch === batch)?.msPerForward ?? null;
      forwards.push({ model: key, threads, batch, ortMsPerForward: ort, torchMsPerForward: t, torchOverOrt: t === null ? null : t / ort });
      if (batch === 1 && threads === THREADS[0] && torch && !torch.randomWeights.includes(key)) {
        const out = await engine.run(key, inputs);
        let m = 0;
        for (const [name, tensor] of Object.entries(out)) {
          const ref = readFloat32File(join(torchOut, `${key}.${name}.bin`));
          for (let i = 0; i < ref.length; i++) m = Math.max(m, Math.abs(ref[i]! - tensor.data[i]!));
        }
        parity[key] = m;
      }
    }
  }
  await engine.release();
}
rmSync(torchOut, { recursive: true, force: true });

// 3. Whole methods through the service pipeline (preprocess → classify → infer → postprocess).
const [lo, hi] = classifierSpec.preprocess.windowHU;
const sliceHU: Image2D<Float32Array> = { width, height, data: Float32Array.from(x1, (v) => ((v + 1) / 2) * (hi - lo) + lo) };
interface MethodRow { method: string; threads: number; allowSpinning: boolean; batch: number; msPerSlice: number; slicesPerSecond: number; runs: number }
const methodRows: MethodRow[] = [];
const riseCache = new RiseMaskCache();
const [classifierHeight, classifierWidth] = classifierSpec.preprocess.size;
riseCache.get({ height: classifierHeight, width: classifierWidth, n: riseN, s: 8, p1: 0.1, seed: 0 }); // generated once (RISE works at f's size), outside the timings
// Spinning only matters with pool threads (threads > 1); each setting gets its own engine, released
// before the next, so no other pool spins during a measurement.
for (const [threads, allowSpinning] of THREADS.flatMap((t) => (t > 1 ? [[t, false], [t, true]] : [[t, false]])) as [number, boolean][]) {
  const engine = new OnnxInferenceEngine({ registry, intraOpNumThreads: threads, allowSpinning });
  const pipeline = new SegmentationPipeline({ engine, riseMaskCache: riseCache });
  const methods = (["COIN", "SINGLA", "SCORE_CAM", "LAYER_CAM", "RISE"] as SegmentationMethod[]).filter(
    (m) => (m !== "COIN" || keys.coin) && (m !== "SINGLA" || keys.singla),
  );
  for (const method of methods) {
    for (const batch of BATCHES) {
      if (method === "RISE" && batch > 1) continue; // RISE batches its N masked images itself; 8 slices = 8× one slice
      const request = {
        method,
        classifierKey: keys.classifier,
        ...(method === "COIN" ? { generatorKey: keys.coin } : method === "SINGLA" ? { generatorKey: keys.singla } : {}),
        slices: Array.from({ length: batch }, () => sliceHU),
        params: { forceSegmentation: true, batchSize: method === "RISE" ? 64 : batch, rise: { n: riseN } },
      };
      // RISE (N forwards per slice) runs once and ScoreCAM (C forwards per slice) at most 3 times: minutes otherwise.
      const runs = method === "RISE" ? 1 : method === "SCORE_CAM" ? Math.min(iters, 3) : iters;
      for (let i = 0; i < (method === "RISE" ? 0 : method === "SCORE_CAM" ? 1 : warmup); i++) await pipeline.segment(request);
      if (method === "RISE") await pipeline.segment({ ...request, params: { ...request.params, rise: { n: 64 } } }); // session warm-up
      const times: number[] = [];
      for (let i = 0; i < runs; i++) {
        const t0 = performance.now();
        await pipeline.segment(request);
        times.push(performance.now() - t0);
      }
      const msPerSlice = median(times) / batch;
      methodRows.push({ method, threads, allowSpinning, batch, msPerSlice, slicesPerSecond: 1000 / msPerSlice, runs });
    }
  }
  await engine.release();
}

const nodeMaxRssKB = process.resourceUsage().maxRSS;
const coinVsRise = THREADS.flatMap((threads) => {
  const coin = methodRows.find((r) => r.method === "COIN" && r.threads === threads && r.batch === 1 && !r.allowSpinning);
  const rise = methodRows.find((r) => r.method === "RISE" && r.threads === threads && r.batch === 1 && !r.allowSpinning);
  return coin && rise ? [{ threads, coinMsPerSlice: coin.msPerSlice, riseMsPerSlice: rise.msPerSlice, riseOverCoin: rise.msPerSlice / coin.msPerSlice }] : [];
});

const cpu = cpus();
const result = {
  generatedAt: new Date().toISOString(),
  machine: `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}`,
  models: Object.values(keys),
  missingModels: missing,
  modelSize: [classifierHeight, classifierWidth],
  sliceSize: [height, width],
  riseN,
  iters,
  torchRuntime: torch?.runtime ?? null,
  torchRandomWeights: torch?.randomWeights ?? [],
  forwards,
  parityMaxAbsDiff: parity,
  methods: methodRows,
  coinVsRise,
  memory: { nodeMaxRssKB, torchMaxRssKB: torch?.maxRssKB ?? null },
};
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify(result, null, 2) + "\n");

const pad = (s: string | number, n: number) => String(s).padStart(n);
console.log(`\n${result.machine}, models ${result.models.join(", ")} at ${height}×${width}\n`);
console.log("Raw forward (median ms): ONNX Runtime (onnxruntime-node) vs PyTorch eager, same model and input");
console.log(`${"model".padEnd(26)}${pad("threads", 8)}${pad("batch", 6)}${pad("ORT ms", 10)}${pad("torch ms", 10)}${pad("torch/ORT", 11)}`);
for (const r of forwards) {
  console.log(`${r.model.padEnd(26)}${pad(r.threads, 8)}${pad(r.batch, 6)}${pad(r.ortMsPerForward.toFixed(2), 10)}${pad(r.torchMsPerForward?.toFixed(2) ?? "—", 10)}${pad(r.torchOverOrt?.toFixed(2) ?? "—", 11)}`);
}
console.log(`parity (max |ORT − torch|, batch 1): ${Object.entries(parity).map(([k, v]) => `${k} ${v.toExponential(1)}`).join(", ") || "—"}`);
if (result.torchRandomWeights.length) {
  console.log(`PyTorch side with the card's architecture and random weights (no checkpoint under ${values.runs}): ${result.torchRandomWeights.join(", ")} — timing only, no output check`);
}
console.log("");
console.log("Methods through the pipeline (ms per slice, slices/s)");
console.log(`${"method".padEnd(12)}${pad("threads", 8)}${pad("spin", 6)}${pad("batch", 6)}${pad("ms/slice", 11)}${pad("slices/s", 10)}`);
for (const r of methodRows) console.log(`${r.method.padEnd(12)}${pad(r.threads, 8)}${pad(r.allowSpinning ? "yes" : "no", 6)}${pad(r.batch, 6)}${pad(r.msPerSlice.toFixed(2), 11)}${pad(r.slicesPerSecond.toFixed(1), 10)}`);
for (const c of coinVsRise) console.log(`RISE (N=${riseN}) / COIN per slice, ${c.threads} thread(s): ${c.riseMsPerSlice.toFixed(0)} / ${c.coinMsPerSlice.toFixed(2)} ms = ${c.riseOverCoin.toFixed(0)}×`);
console.log(`peak RSS: node ${(nodeMaxRssKB / 1024).toFixed(0)} MB${torch ? `, python ${(torch.maxRssKB / 1024).toFixed(0)} MB` : ""}; wrote ${values.out}`);
