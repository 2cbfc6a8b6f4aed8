// CLI: evaluates COIN and the baselines on a benchmark's test split and writes reports/<benchmark>/.
// Usage: npm run eval -- --benchmark kidney-blob [--limit N] [--rise-n 6000] [--rise-limit K] [--score-cam-limit K]
//          [--methods COIN,SINGLA,RISE,SCORE_CAM,LAYER_CAM] [--data data/<benchmark>] [--models models]
//          [--classifier KEY] [--coin KEY] [--singla KEY] [--out reports/<benchmark>] [--threads 2] [--examples 6]
//          [--allow-window-mismatch]
// --rise-limit / --score-cam-limit: K slices spread evenly over the test set; every row is also scored on the slices all methods ran on
import { mkdir, readdir, readFile, rm, writeFile } from "node:fs/promises";
import { cpus } from "node:os";
import { join } from "node:path";
import { parseArgs } from "node:util";
import cliProgress from "cli-progress";
import { SEGMENTATION_METHODS, type SegmentationMethod } from "../core/domain/enums.ts";
import { ModelDirectoryRegistry } from "../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../adapters/onnx/onnx-inference-engine.ts";
import { isInferenceError } from "../workers/errors/inference-error.ts";
import { loadBenchmarkTestSet } from "../workers/evaluation/benchmark-test-set.ts";
import { evaluateBenchmark } from "../workers/evaluation/evaluate-benchmark.ts";
import { describeWindowMismatches, windowMismatches } from "../workers/evaluation/window-check.ts";
import { renderHtmlReport, renderMarkdownReport, reportFindings } from "../workers/evaluation/render-report.ts";
import { DEFAULT_RISE_PARAMS } from "../workers/methods/rise-method.ts";

const { values } = parseArgs({
  options: {
    benchmark: { type: "string", default: "kidney-blob" },
    data: { type: "string" },
    models: { type: "string", default: "models" },
    classifier: { type: "string" },
    coin: { type: "string" },
    singla: { type: "string" },
    limit: { type: "string" },
    "rise-n": { type: "string", default: String(DEFAULT_RISE_PARAMS.n) },
    "rise-s": { type: "string", default: String(DEFAULT_RISE_PARAMS.s) },
    "rise-p1": { type: "string", default: String(DEFAULT_RISE_PARAMS.p1) },
    "rise-limit": { type: "string" },
    "score-cam-limit": { type: "string" },
    methods: { type: "string", default: SEGMENTATION_METHODS.join(",") },
    out: { type: "string" },
    threads: { type: "string", default: "2" },
    examples: { type: "string", default: "6" },
    note: { type: "string", multiple: true },
    "allow-window-mismatch": { type: "boolean", default: false },
  },
});

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}
const int = (name: string, v: string | undefined, min: number): number | undefined => {
  if (v === undefined) return undefined;
  const n = Number(v);
  if (!Number.isInteger(n) || n < min) fail(`--${name} must be an integer ≥ ${min}`);
  return n;
};

const benchmark = values.benchmark!;
const dataDir = values.data ?? join("data", benchmark);
const outDir = values.out ?? join("reports", benchmark);
const methods = values.methods!.split(",").map((m) => m.trim().toUpperCase()) as SegmentationMethod[];
for (const m of methods) if (!SEGMENTATION_METHODS.includes(m)) fail(`unknown method ${m}; use ${SEGMENTATION_METHODS.join(", ")}`);
const rise = { n: int("rise-n", values["rise-n"], 1)!, s: int("rise-s", values["rise-s"], 1)!, p1: Number(values["rise-p1"]), seed: DEFAULT_RISE_PARAMS.seed };
if (!(rise.p1 > 0 && rise.p1 <= 1)) fail("--rise-p1 must lie in (0, 1]");
const limit = int("limit", values.limit, 1);
const riseLimit = int("rise-limit", values["rise-limit"], 0);
const scoreCamLimit = int("score-cam-limit", values["score-cam-limit"], 0);
const threads = int("threads", values.threads, 1)!;
const keys = {
  classifier: values.classifier ?? `${benchmark}-classifier`,
  coin: values.coin ?? `${benchmark}-coin`,
  singla: values.singla ?? `${benchmark}-singla`,
};

const registry = new ModelDirectoryRegistry(values.models!);
const engine = new OnnxInferenceEngine({ registry, intraOpNumThreads: threads });
const specs = [];
try {
  specs.push(await engine.spec(keys.classifier));
} catch (error) {
  fail(`model ${keys.classifier}: ${(error as Error).message}`);
}
// A missing generator drops its method (said in the report); a present but broken one is an error.
const skippedNotes: string[] = [];
for (const [method, key] of [["COIN", keys.coin], ["SINGLA", keys.singla]] as const) {
  if (!methods.includes(method)) continue;
  try {
    specs.push(await engine.spec(key));
  } catch (error) {
    if (!isInferenceError(error, "MODEL_NOT_FOUND")) fail(`model ${key}: ${(error as Error).message}`);
    methods.splice(methods.indexOf(method), 1);
    skippedNotes.push(`${method} was not run: model ${key} is not in ${values.models}.`);
    console.warn(`warning: ${skippedNotes.at(-1)}`);
  }
}

// The benchmark adds its target on the [0, 1] scale of dataset.json's window; a model with another
// window sees a different problem (DESIGN.md §3): refused with WINDOW_MISMATCH before any slice runs,
// unless --allow-window-mismatch, which says so in the report.
const autoNotes: string[] = [];
let datasetWindowHU: [number, number] | undefined;
try {
  datasetWindowHU = (JSON.parse(await readFile(join(dataDir, "dataset.json"), "utf8")) as { windowHU?: [number, number] }).windowHU;
} catch {
  autoNotes.push("Warning: no readable dataset.json beside the manifest; the models' windows were not checked against the dataset's.");
}
if (datasetWindowHU) {
  const mismatches = windowMismatches(datasetWindowHU, specs.map((s) => ({ key: s.key, windowHU: s.preprocess.windowHU })));
  if (mismatches.length > 0) {
    const text = describeWindowMismatches(datasetWindowHU, mismatches);
    if (!values["allow-window-mismatch"]) fail(`WINDOW_MISMATCH: ${text} (regenerate the dataset with the models' seed, or pass --allow-window-mismatch)`);
    autoNotes.push(`Warning (run with --allow-window-mismatch): ${text}.`);
    console.warn(`warning: ${text}`);
  }
}

const t0 = performance.now();
const slices = await loadBenchmarkTestSet(dataDir, limit !== undefined ? { limit } : {});
if (slices.length === 0) fail(`no ground-truth-positive test slices in ${dataDir}`);
const limitOf = (m: SegmentationMethod) => Math.min(slices.length, (m === "RISE" ? riseLimit : m === "SCORE_CAM" ? scoreCamLimit : undefined) ?? slices.length);
const total = methods.reduce((s, m) => s + limitOf(m), 0) + slices.length;
console.log(`${benchmark}: ${slices.length} ground-truth-positive test slices loaded in ${((performance.now() - t0) / 1000).toFixed(1)} s; methods ${methods.join(", ")} + ORACLE`);

// Overlays of an earlier run would mix into the grid's folder: remove them first.
await mkdir(outDir, { recursive: true });
for (const f of await readdir(outDir)) if (/^overlay-.*\.png$/.test(f)) await rm(join(outDir, f));

const bar = new cliProgress.SingleBar({ format: "{bar} {percentage}% | {value}/{total} slice-runs | {row} | ETA {eta_formatted}", hideCursor: true }, cliProgress.Presets.shades_classic);
bar.start(total, 0, { row: methods[0] });
let done = 0;
const evaluation = await evaluateBenchmark(slices, {
  engine,
  classifierKey: keys.classifier,
  coinKey: keys.coin,
  singlaKey: keys.singla,
  methods,
  rise,
  ...(riseLimit !== undefined ? { riseLimit } : {}),
  ...(scoreCamLimit !== undefined ? { scoreCamLimit } : {}),
  overlayDir: outDir,
  examples: int("examples", values.examples, 0)!,
  onProgress: (row) => bar.update(++done, { row }),
});
bar.stop();

const cpu = cpus();
const context = {
  benchmark,
  generatedAt: new Date().toISOString(),
  command: `npm run eval -- ${process.argv.slice(2).join(" ")}`.trim(),
  machine: `${cpu.length} × ${cpu[0]?.model ?? "unknown CPU"}`,
  models: specs.map((s) => ({ key: s.key, sha256: s.sha256, metrics: s.raw.metrics })),
  rise,
  intraOpThreads: threads,
  notes: [...autoNotes, ...skippedNotes, ...(values.note ?? [])],
};
await mkdir(outDir, { recursive: true });
await writeFile(join(outDir, "report.md"), renderMarkdownReport(evaluation, context));
await writeFile(join(outDir, "report.html"), renderHtmlReport(evaluation, context));
await writeFile(join(outDir, "report.json"), JSON.stringify({ context, evaluation }, null, 2) + "\n");
await engine.release();
for (const r of evaluation.rows) {
  console.log(`${r.row.padEnd(13)} IoU ${r.summary.pooledIoU.toFixed(3)}  Dice ${r.summary.pooledDice.toFixed(3)}  ms/slice ${r.msPerSlice.toFixed(2)}  (${r.slices} slices)`);
}
for (const line of reportFindings(evaluation)) console.log(`- ${line}`);
console.log(`wrote ${join(outDir, "report.md")}, report.html, report.json and ${evaluation.overlays.length} overlays in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
