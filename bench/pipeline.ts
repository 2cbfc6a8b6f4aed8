// Pipeline benchmark (services mode): mutation → SQS → worker process(es) → Postgres → NOTIFY → API →
// graphql-ws subscriber. Per slice: latency from the requestSegmentation mutation to its SLICE_RESULT
// event; per job: throughput with 1 and 2 worker processes; and, in the same run, the raw inference time
// of the same slices (SegmentationPipeline.segment in process, same batch size). Overhead per slice =
// end-to-end wall time per slice (1 worker) − raw inference time per slice.
// Usage: npx tsx bench/pipeline.ts [--method LAYER_CAM] [--model kidney-blob-classifier] [--models models]
//          [--slices 40] [--reps 3] [--batch 8] [--out bench/results/pipeline.json]
// Needs PostgreSQL on 127.0.0.1:5432 and moto at MOTO_ENDPOINT_URL. Not a test (STYLE.md).
import { spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import { cpus, loadavg } from "node:os";
import path from "node:path";
import { parseArgs } from "node:util";
import { createClient } from "graphql-ws";
import { pino } from "pino";
import WebSocket from "ws";
import { JoseTokenVerifier } from "../adapters/auth/jose-token-verifier.ts";
import { PgNotifyResultBus } from "../adapters/events/pg-notify-result-bus.ts";
import { readModelDirectory } from "../adapters/models/read-model-directory.ts";
import { ModelDirectoryRegistry } from "../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../adapters/onnx/onnx-inference-engine.ts";
import { PrismaModelRegistry } from "../adapters/prisma/prisma-model-registry.ts";
import type { SegmentationMethod } from "../core/domain/enums.ts";
import { buildGraphQLSchema } from "../app/api/graphql-schema.ts";
import { startHttpServer } from "../app/api/http-server.ts";
import { wireServices } from "../app/api/wire-services.ts";
import { SegmentationPipeline } from "../workers/pipeline/segmentation-pipeline.ts";
import { createDispatchHarness, motoEndpoint, TEST_AWS } from "../test/dispatch/support/dispatch-harness.ts";
import { phantomSlices } from "../test/dispatch/support/phantom-slices.ts";

const { values } = parseArgs({
  options: {
    method: { type: "string" },
    model: { type: "string" },
    models: { type: "string", default: "models" },
    slices: { type: "string", default: "40" },
    reps: { type: "string", default: "3" },
    batch: { type: "string", default: "8" },
    out: { type: "string", default: "bench/results/pipeline.json" },
  },
});
const SLICES = Number(values.slices);
const REPS = Number(values.reps);
const BATCH = Number(values.batch);
const repoRoot = path.resolve(import.meta.dirname, "..");
const fixtures = path.join(repoRoot, "test/fixtures/models");

// The model: the trained kidney-blob COIN generator when present, else LayerCAM on the trained
// classifier, else the tiny fixture COIN model (the output says which).
let modelsDir = path.resolve(values.models!);
let method = (values.method ?? "") as SegmentationMethod;
let modelKey = values.model ?? "";
if (!modelKey) {
  if (existsSync(path.join(modelsDir, "kidney-blob-coin/model.json"))) [method, modelKey] = [method || "COIN", "kidney-blob-coin"];
  else if (existsSync(path.join(modelsDir, "kidney-blob-classifier/model.json"))) [method, modelKey] = [method || "LAYER_CAM", "kidney-blob-classifier"];
  else [modelsDir, method, modelKey] = [fixtures, method || "COIN", "tiny-coin"];
}
console.log(`pipeline bench: ${method} on ${modelKey} (${modelsDir}), ${SLICES} phantom slices, batch ${BATCH}, ${REPS} reps; ${cpus().length} CPUs, load ${loadavg()[0]!.toFixed(1)}`);

const median = (xs: number[]): number => {
  const s = [...xs].sort((a, b) => a - b);
  return s.length % 2 ? s[(s.length - 1) / 2]! : (s[s.length / 2 - 1]! + s[s.length / 2]!) / 2;
};
const quantile = (xs: number[], q: number): number => [...xs].sort((a, b) => a - b)[Math.min(xs.length - 1, Math.floor(q * xs.length))]!;

// --- raw inference of the same slices, in this process ------------------------------------------
const phantom = phantomSlices(SLICES);
const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(modelsDir), executionProviders: ["cpu"] });
const pipeline = new SegmentationPipeline({ engine });
const spec = await engine.spec(modelKey);
const models = method === "COIN" || method === "SINGLA" ? { classifierKey: spec.classifierKey!, generatorKey: modelKey } : { classifierKey: modelKey };
const images = phantom.slices.map((data) => ({ width: phantom.width, height: phantom.height, data }));
async function rawOnce(): Promise<number> {
  const t = performance.now();
  for (let i = 0; i < images.length; i += BATCH) await pipeline.segment({ method, ...models, slices: images.slice(i, i + BATCH) });
  return performance.now() - t;
}
await rawOnce(); // warm-up: sessions, caches
const rawRuns: number[] = [];
for (let r = 0; r < REPS; r++) rawRuns.push(await rawOnce());
const rawMsPerSlice = median(rawRuns) / SLICES;
console.log(`raw inference: ${rawMsPerSlice.toFixed(2)} ms/slice (median of ${REPS} × ${SLICES} slices)`);

// --- the services-mode pipeline -------------------------------------------------------------------
const h = await createDispatchHarness({ visibilityTimeoutSeconds: 60 });
const registry = new PrismaModelRegistry(h.db.prisma);
if (modelsDir !== fixtures) for (const m of await readModelDirectory(modelsDir)) await registry.register(m);
const logger = pino({ level: "silent" });
const apiBus = new PgNotifyResultBus(h.db.url, async (org, jobId, sliceId) => (await h.jobs.resultsBySlice(org, [sliceId])).get(sliceId)?.find((r) => r.jobId === jobId) ?? null);
await apiBus.start();
const services = wireServices({ prisma: h.db.prisma, store: h.store, bus: apiBus, tokens: new JoseTokenVerifier({ secret: "b".repeat(40), issuer: "coinseg", audience: "coinseg-api" }), logger, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60 });
const server = await startHttpServer({ schema: buildGraphQLSchema(), services, logger, host: "127.0.0.1", port: 0, introspection: true, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 1 << 20 });
const { key } = await services.auth.issueApiKey(h.principal.organizationId, h.principal.userId, "bench");
const ws = createClient({ url: server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: key }, retryAttempts: 0 });
const { studyId } = await h.createPhantomStudy(SLICES);

const metricsUrls: string[] = [];

function spawnWorker(): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "app/worker.ts"], {
    cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: "true", AWS_REGION: TEST_AWS.region, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
      DATABASE_URL: h.db.url, SQS_ENDPOINT: motoEndpoint(), SQS_QUEUE_URL: h.queues.queueUrl, SQS_WAIT_TIME_SECONDS: "20", WORKER_BATCH_SIZE: String(BATCH),
      MODELS_DIR: modelsDir, OBJECT_STORE: "local", LOCAL_STORE_DIR: h.storeDir, METRICS_PORT: "0", LOG_LEVEL: "info", OUTBOX_POLL_MS: "20",
    },
  });
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const metricsLine = /"url":"([^"]+\/metrics)"/.exec(buffer);
      if (buffer.includes('"msg":"worker polling"') && metricsLine) {
        metricsUrls.push(metricsLine[1]!);
        child.stdout!.off("data", onData);
        child.stdout!.resume();
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code) => reject(new Error(`worker exited (${code}) before polling`)));
  });
}

/** One job: the mutation's start time and each SLICE_RESULT event's arrival, plus the worker-side timings. */
async function runJob(): Promise<{ latenciesMs: number[]; wallMs: number; workerInferMs: number }> {
  const t0 = performance.now();
  const res = await fetch(server.graphqlUrl, {
    method: "POST", headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify({ query: `mutation ($s: ID!, $m: String!) { requestSegmentation(input: { studyId: $s, method: ${method}, modelKey: $m }) { job { id } } }`, variables: { s: studyId, m: modelKey } }),
  });
  const jobId = ((await res.json()) as { data: { requestSegmentation: { job: { id: string } } } }).data.requestSegmentation.job.id;
  const latenciesMs: number[] = [];
  let workerInferMs = 0;
  for await (const msg of ws.iterate<{ segmentationJobUpdated: { job: { status: string }; result: { sliceIndex: number; timingsMs: Record<string, number> } | null } }>({
    query: `subscription ($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status } result { sliceIndex timingsMs } } }`, variables: { j: jobId },
  })) {
    const u = msg.data!.segmentationJobUpdated;
    if (u.result) {
      latenciesMs.push(performance.now() - t0);
      workerInferMs += Object.values(u.result.timingsMs).reduce((a, b) => a + b, 0);
    }
  }
  if (latenciesMs.length !== SLICES) throw new Error(`expected ${SLICES} results, got ${latenciesMs.length}`);
  return { latenciesMs, wallMs: Math.max(...latenciesMs), workerInferMs };
}

/** Mean ms per call of the workers' result writes and publishes, from their /metrics (all runs so far). */
async function ioBreakdown(): Promise<{ saveResultMs: number; publishMs: number }> {
  const total = { save_result: { sum: 0, count: 0 }, publish: { sum: 0, count: 0 } };
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text();
    for (const op of ["save_result", "publish"] as const) {
      total[op].sum += Number(new RegExp(`^coinseg_worker_io_seconds_sum\\{op="${op}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      total[op].count += Number(new RegExp(`^coinseg_worker_io_seconds_count\\{op="${op}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    }
  }
  return { saveResultMs: (1000 * total.save_result.sum) / Math.max(1, total.save_result.count), publishMs: (1000 * total.publish.sum) / Math.max(1, total.publish.count) };
}

const workers: ChildProcess[] = [];
let io = { saveResultMs: 0, publishMs: 0 };
const runs: Record<string, { workers: number; wallMs: number[]; slicesPerSecond: number; latencyMs: { p50: number; p95: number; first: number }; workerStageMsPerSlice: number }> = {};
try {
  for (const n of [1, 2]) {
    while (workers.length < n) workers.push(await spawnWorker());
    await runJob(); // warm-up: the workers' sessions
    const jobs = [];
    for (let r = 0; r < REPS; r++) jobs.push(await runJob());
    const wall = jobs.map((j) => j.wallMs);
    const all = jobs.flatMap((j) => j.latenciesMs);
    runs[`${n}`] = {
      workers: n,
      wallMs: wall,
      slicesPerSecond: SLICES / (median(wall) / 1000),
      latencyMs: { p50: quantile(all, 0.5), p95: quantile(all, 0.95), first: median(jobs.map((j) => Math.min(...j.latenciesMs))) },
      workerStageMsPerSlice: median(jobs.map((j) => j.workerInferMs)) / SLICES,
    };
    if (n === 1) io = await ioBreakdown();
  }
} finally {
  for (const w of workers) w.kill("SIGTERM");
  await Promise.all(workers.map((w) => new Promise((r) => (w.exitCode !== null ? r(null) : w.once("exit", r)))));
  await ws.dispose();
  await server.close();
  await apiBus.close();
  await h.close();
}

const one = runs["1"]!;
const e2eMsPerSlice = median(one.wallMs) / SLICES;
const overheadMsPerSlice = e2eMsPerSlice - rawMsPerSlice;
const targetMs = Math.max(0.1 * rawMsPerSlice, 5);
console.log("\n| workers | slices/s | job wall ms (median) | first event ms | p50 event ms | p95 event ms | worker stage ms/slice |");
console.log("|---|---|---|---|---|---|---|");
for (const r of Object.values(runs)) {
  console.log(`| ${r.workers} | ${r.slicesPerSecond.toFixed(1)} | ${median(r.wallMs).toFixed(0)} | ${r.latencyMs.first.toFixed(0)} | ${r.latencyMs.p50.toFixed(0)} | ${r.latencyMs.p95.toFixed(0)} | ${r.workerStageMsPerSlice.toFixed(2)} |`);
}
console.log(`\nraw inference ${rawMsPerSlice.toFixed(2)} ms/slice; end to end (1 worker) ${e2eMsPerSlice.toFixed(2)} ms/slice; overhead ${overheadMsPerSlice.toFixed(2)} ms/slice (target ≤ ${targetMs.toFixed(2)} ms: ${overheadMsPerSlice <= targetMs ? "met" : "NOT met"})`);
console.log(`of which, per slice in the worker (1 worker): result write ${io.saveResultMs.toFixed(2)} ms (Postgres transaction), event publish ${io.publishMs.toFixed(2)} ms (NOTIFY); the rest is pixel read, RLE, queue and relay polling, API fan-out`);
const result = {
  date: new Date().toISOString(), cpus: cpus().length, loadAverage1m: loadavg()[0], method, modelKey, slices: SLICES, batchSize: BATCH, reps: REPS,
  rawInferenceMsPerSlice: rawMsPerSlice, rawRunsMs: rawRuns, pipeline: runs, endToEndMsPerSlice1Worker: e2eMsPerSlice,
  overheadMsPerSlice, workerIoMsPerCall: io, overheadTargetMs: targetMs, overheadTargetMet: overheadMsPerSlice <= targetMs,
  note: "end to end = from the requestSegmentation mutation to the last SLICE_RESULT event at a graphql-ws subscriber, includes the outbox relay poll (20 ms), SQS long poll, per-slice Postgres transaction and NOTIFY",
};
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
