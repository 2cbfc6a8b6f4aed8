// Pipeline benchmark (services mode): mutation → SQS → worker process(es) → Postgres → NOTIFY → API →
// graphql-ws subscriber. Per slice: latency from the requestSegmentation mutation to its SLICE_RESULT
// event; per job: throughput with 1 and 2 worker processes; and, in the same run, the raw inference time
// of the same slices (SegmentationPipeline.segment in process, same batch size), measured between the
// 1-worker jobs so both see the same background load. Overhead per slice = end-to-end wall time per
// slice (1 worker) − raw inference time per slice. With several workers each gets
// ORT_INTRA_OP_THREADS = cores ÷ workers (one worker: ONNX Runtime's default), recorded in the JSON.
// Usage: npm run bench:pipeline -- [--method COIN] [--model kidney-blob-coin] [--models models]
//          [--slices 40] [--reps 5] [--batch 8] [--out bench/results/pipeline.json]
// Default: COIN on the kidney-blob generator and its classifier (fails when they are missing). To
// measure the committed models while the working tree holds others:
//   git archive HEAD models/kidney-blob-coin models/kidney-blob-classifier | tar -x -C /tmp/bench-models
//   npm run bench:pipeline -- --models /tmp/bench-models/models
// Needs PostgreSQL on 127.0.0.1:5432 and moto at MOTO_ENDPOINT_URL. Not a test (STYLE.md).
import { spawn, type ChildProcess } from "node:child_process";
import { execFileSync } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
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
    reps: { type: "string", default: "5" },
    batch: { type: "string", default: "8" },
    out: { type: "string", default: "bench/results/pipeline.json" },
  },
});
const SLICES = Number(values.slices);
const REPS = Number(values.reps);
const BATCH = Number(values.batch);
/** A job that takes longer than this fails the run (ms). */
const JOB_TIMEOUT_MS = 120_000;
const repoRoot = path.resolve(import.meta.dirname, "..");
const modelsDir = path.resolve(values.models!);
const method = (values.method ?? "COIN") as SegmentationMethod;
const modelKey = values.model ?? (method === "COIN" ? "kidney-blob-coin" : "kidney-blob-classifier");
if (!existsSync(path.join(modelsDir, modelKey, "model.json"))) throw new Error(`no ${modelKey} in ${modelsDir}: train it or pass --models/--model`);
const loadAtStart = loadavg();
const commit = execFileSync("git", ["rev-parse", "--short", "HEAD"], { cwd: repoRoot, encoding: "utf8" }).trim();
console.log(`pipeline bench: ${method} on ${modelKey} (${modelsDir}), ${SLICES} phantom slices, batch ${BATCH}, ${REPS} reps; ${cpus().length} CPUs, load ${loadAtStart.map((l) => l.toFixed(1)).join(" ")}`);

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
console.log("raw inference warmed up");
const rawRuns: number[] = [];
/** The models' sha256 from their model.json (the registry refuses a file that does not match). */
const modelSha256 = Object.fromEntries(
  [modelKey, ...(models.generatorKey ? [models.classifierKey] : [])].map((key) => [key, (JSON.parse(readFileSync(path.join(modelsDir, key, "model.json"), "utf8")) as { sha256: string }).sha256]),
);

// --- the services-mode pipeline -------------------------------------------------------------------
const h = await createDispatchHarness({ visibilityTimeoutSeconds: 60 });
const registry = new PrismaModelRegistry(h.db.prisma);
for (const m of await readModelDirectory(modelsDir)) await registry.register(m);
const logger = pino({ level: "silent" });
const apiBus = new PgNotifyResultBus(h.db.url, async (org, jobId, sliceId) => (await h.jobs.resultsBySlice(org, [sliceId])).get(sliceId)?.find((r) => r.jobId === jobId) ?? null);
await apiBus.start();
const services = wireServices({ prisma: h.db.prisma, store: h.store, bus: apiBus, tokens: new JoseTokenVerifier({ secret: "b".repeat(40), issuer: "coinseg", audience: "coinseg-api" }), logger, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60 });
const server = await startHttpServer({ schema: buildGraphQLSchema(), services, logger, host: "127.0.0.1", port: 0, introspection: true, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 1 << 20 });
const { key } = await services.auth.issueApiKey(h.principal.organizationId, h.principal.userId, "bench");
const ws = createClient({ url: server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: key }, retryAttempts: 0 });
const { studyId } = await h.createPhantomStudy(SLICES);

const metricsUrls: string[] = [];
/** The fields of a worker's per-task log line the breakdown uses (workers/runtime/worker-runtime.ts). */
interface TaskLine {
  readonly jobId: string;
  readonly queueLagMs: number;
  readonly durationMs: number;
  readonly slicesComputed: number;
  readonly writeMs: number;
  readonly stageMs: { readonly total?: number };
}
/** Every worker's "task message done" lines. */
const taskLines: TaskLine[] = [];
/** Resolves when a worker's process has exited and its output streams have closed. */
const closed = new Map<ChildProcess, Promise<void>>();
/** True while the benchmark itself stops its workers. */
let stoppingWorkers = false;

/**
 * ONNX Runtime intra-op threads per worker process when `workers` share this host: 0 (ONNX Runtime's
 * default, one per core) for one worker, cores ÷ workers (at least 1) for more, so they do not
 * oversubscribe the cores.
 */
function threadsPerWorker(workers: number): number {
  return workers === 1 ? 0 : Math.max(1, Math.floor(cpus().length / workers));
}

function spawnWorker(intraOpThreads: number): Promise<ChildProcess> {
  const child = spawn(process.execPath, ["--import", "tsx", "app/worker.ts"], {
    cwd: repoRoot, stdio: ["ignore", "pipe", "inherit"],
    env: {
      PATH: process.env.PATH, AWS_EC2_METADATA_DISABLED: "true", AWS_REGION: TEST_AWS.region, AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
      DATABASE_URL: h.db.url, SQS_ENDPOINT: motoEndpoint(), SQS_QUEUE_URL: h.queues.queueUrl, SQS_WAIT_TIME_SECONDS: "20", WORKER_BATCH_SIZE: String(BATCH),
      MODELS_DIR: modelsDir, OBJECT_STORE: "local", LOCAL_STORE_DIR: h.storeDir, METRICS_PORT: "0", LOG_LEVEL: "info", OUTBOX_POLL_MS: "20",
      ORT_INTRA_OP_THREADS: String(intraOpThreads),
    },
  });
  closed.set(child, new Promise((resolve) => child.once("close", () => resolve())));
  return new Promise((resolve, reject) => {
    let buffer = "";
    const onData = (d: Buffer) => {
      buffer += d.toString();
      const metricsLine = /"url":"([^"]+\/metrics)"/.exec(buffer);
      if (buffer.includes('"msg":"worker polling"') && metricsLine) {
        metricsUrls.push(metricsLine[1]!);
        child.stdout!.off("data", onData);
        // From now on only the worker's warnings and errors are shown.
        let rest = "";
        child.stdout!.on("data", (chunk: Buffer) => {
          const lines = (rest + chunk.toString()).split("\n");
          rest = lines.pop()!;
          for (const line of lines) {
            if (/"level":(40|50|60)/.test(line)) console.error(`worker ${child.pid}: ${line}`);
            if (line.includes('"msg":"task message done"')) taskLines.push(JSON.parse(line) as TaskLine);
          }
        });
        resolve(child);
      }
    };
    child.stdout!.on("data", onData);
    child.once("exit", (code, signal) => {
      reject(new Error(`worker exited (${code}) before polling`));
      if (!stoppingWorkers) console.error(`worker ${child.pid} exited (${code ?? signal}) during the run`);
    });
  });
}

/** One job: the mutation's start time and each SLICE_RESULT event's arrival, plus the worker-side timings. */
async function runJob(): Promise<{ jobId: string; latenciesMs: number[]; wallMs: number; workerInferMs: number }> {
  const t0 = performance.now();
  const res = await fetch(server.graphqlUrl, {
    method: "POST", headers: { "content-type": "application/json", "x-api-key": key },
    body: JSON.stringify({ query: `mutation ($s: ID!, $m: String!) { requestSegmentation(input: { studyId: $s, method: ${method}, modelKey: $m }) { job { id } } }`, variables: { s: studyId, m: modelKey } }),
  });
  const jobId = ((await res.json()) as { data: { requestSegmentation: { job: { id: string } } } }).data.requestSegmentation.job.id;
  const latenciesMs: number[] = [];
  let workerInferMs = 0;
  const updates = ws.iterate<{ segmentationJobUpdated: { job: { status: string }; result: { sliceIndex: number; timingsMs: Record<string, number> } | null } }>({
    query: `subscription ($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status } result { sliceIndex timingsMs } } }`, variables: { j: jobId },
  });
  const consume = (async () => {
    for await (const msg of updates) {
      const u = msg.data!.segmentationJobUpdated;
      if (u.result) {
        latenciesMs.push(performance.now() - t0);
        // `total` is the sum of the stages; older results may lack it.
        workerInferMs += u.result.timingsMs.total ?? Object.values(u.result.timingsMs).reduce((a, b) => a + b, 0);
      }
    }
  })();
  // Never hang silently: a job that does not end in time fails the run with its state.
  let timer: NodeJS.Timeout | undefined;
  const deadline = new Promise<never>((_, reject) => {
    timer = setTimeout(() => {
      void (async () => {
        await updates.return?.(undefined);
        const job = await h.jobs.findJob(h.principal.organizationId, jobId);
        reject(new Error(`job ${jobId} did not end within ${JOB_TIMEOUT_MS} ms: ${job?.status} ${job?.completedSlices}+${job?.failedSlices}/${job?.totalSlices}, ${latenciesMs.length} events`));
      })();
    }, JOB_TIMEOUT_MS);
  });
  try {
    await Promise.race([consume, deadline]);
  } finally {
    clearTimeout(timer);
  }
  if (latenciesMs.length !== SLICES) throw new Error(`expected ${SLICES} results, got ${latenciesMs.length}`);
  console.log(`  job ${jobId}: ${SLICES} results in ${Math.max(...latenciesMs).toFixed(0)} ms`);
  return { jobId, latenciesMs, wallMs: Math.max(...latenciesMs), workerInferMs };
}

/** Workers' result-write and publish time from their /metrics: per slice written and per call (all runs so far). */
async function ioBreakdown(): Promise<{ saveResultsMsPerSlice: number; publishMsPerSlice: number; saveResultsMsPerCall: number; publishMsPerCall: number; saveResultsCalls: number; publishCalls: number; slices: number }> {
  const sums = { save_results: { sum: 0, count: 0 }, publish: { sum: 0, count: 0 } };
  let slices = 0;
  for (const url of metricsUrls) {
    const text = await (await fetch(url)).text();
    for (const op of ["save_results", "publish"] as const) {
      sums[op].sum += Number(new RegExp(`^coinseg_worker_io_seconds_sum\\{op="${op}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
      sums[op].count += Number(new RegExp(`^coinseg_worker_io_seconds_count\\{op="${op}"\\} (\\S+)$`, "m").exec(text)?.[1] ?? 0);
    }
    slices += Number(/^coinseg_worker_slice_results_total (\S+)$/m.exec(text)?.[1] ?? 0);
  }
  const per = (x: number, n: number) => (1000 * x) / Math.max(1, n);
  return {
    saveResultsMsPerSlice: per(sums.save_results.sum, slices), publishMsPerSlice: per(sums.publish.sum, slices),
    saveResultsMsPerCall: per(sums.save_results.sum, sums.save_results.count), publishMsPerCall: per(sums.publish.sum, sums.publish.count),
    saveResultsCalls: sums.save_results.count, publishCalls: sums.publish.count, slices,
  };
}

const workers: ChildProcess[] = [];
async function stopWorkers(): Promise<void> {
  stoppingWorkers = true;
  for (const w of workers) w.kill("SIGTERM");
  // "close", not "exit": the worker's last stdout lines (its task lines) are read by then.
  await Promise.all(workers.map((w) => closed.get(w)));
  workers.length = 0;
  metricsUrls.length = 0;
  stoppingWorkers = false;
}
let io: Awaited<ReturnType<typeof ioBreakdown>> | null = null;
/** Per job, from the workers' task lines: where the wall time went (ms per slice, medians over the jobs). */
interface TaskBreakdown {
  /** Tasks (queue messages) per job. */
  readonly tasks: number;
  /** Send → receive of the job's first task message (outbox relay poll + SQS), ms. */
  readonly firstQueueLagMs: number;
  /** Σ task handling time / slices: receive → ack, everything a worker did. */
  readonly taskMsPerSlice: number;
  /** Σ pipeline stage time (SliceResult.timingsMs.total) / slices. */
  readonly inferenceMsPerSlice: number;
  /** Σ result write time / slices (overlaps the next batch's inference). */
  readonly writeMsPerSlice: number;
}
const jobIdsByRun: Record<string, string[]> = {};
const runs: Record<string, { workers: number; ortIntraOpThreads: number; wallMs: number[]; slicesPerSecond: number; latencyMs: { p50: number; p95: number; first: number }; workerStageMsPerSlice: number; worker?: TaskBreakdown }> = {};
try {
  for (const n of [1, 2]) {
    // Fresh workers per count, so each run's /metrics hold only its own jobs.
    await stopWorkers();
    const threads = threadsPerWorker(n);
    while (workers.length < n) workers.push(await spawnWorker(threads));
    console.log(`${n} worker process(es) polling, ORT_INTRA_OP_THREADS=${threads}`);
    await runJob(); // warm-up: the workers' sessions
    const jobs = [];
    for (let r = 0; r < REPS; r++) {
      // Raw inference between the 1-worker jobs: both see the same background load (shared machine).
      if (n === 1) {
        rawRuns.push(await rawOnce());
        console.log(`  raw inference: ${rawRuns.at(-1)!.toFixed(0)} ms for ${SLICES} slices`);
      }
      jobs.push(await runJob());
    }
    jobIdsByRun[`${n}`] = jobs.map((j) => j.jobId);
    const wall = jobs.map((j) => j.wallMs);
    const all = jobs.flatMap((j) => j.latenciesMs);
    runs[`${n}`] = {
      workers: n,
      ortIntraOpThreads: threads,
      wallMs: wall,
      slicesPerSecond: SLICES / (median(wall) / 1000),
      latencyMs: { p50: quantile(all, 0.5), p95: quantile(all, 0.95), first: median(jobs.map((j) => Math.min(...j.latenciesMs))) },
      workerStageMsPerSlice: median(jobs.map((j) => j.workerInferMs)) / SLICES,
    };
    if (n === 1) io = await ioBreakdown();
  }
} finally {
  await stopWorkers();
  await ws.dispose();
  await server.close();
  await apiBus.close();
  await h.close();
}
const rawMsPerSlice = median(rawRuns) / SLICES;
const loadAtEnd = loadavg();
// The workers have exited: their task lines are all in.
for (const [n, jobIds] of Object.entries(jobIdsByRun)) {
  const perJob = jobIds.map((jobId) => {
    const lines = taskLines.filter((l) => l.jobId === jobId);
    const sum = (f: (l: TaskLine) => number) => lines.reduce((a, l) => a + f(l), 0);
    return {
      tasks: lines.length, firstQueueLagMs: Math.min(...lines.map((l) => l.queueLagMs)), taskMsPerSlice: sum((l) => l.durationMs) / SLICES,
      inferenceMsPerSlice: sum((l) => l.stageMs.total ?? 0) / SLICES, writeMsPerSlice: sum((l) => l.writeMs) / SLICES,
    };
  });
  if (perJob.some((j) => j.tasks === 0)) continue;
  runs[n]!.worker = {
    tasks: median(perJob.map((j) => j.tasks)), firstQueueLagMs: median(perJob.map((j) => j.firstQueueLagMs)), taskMsPerSlice: median(perJob.map((j) => j.taskMsPerSlice)),
    inferenceMsPerSlice: median(perJob.map((j) => j.inferenceMsPerSlice)), writeMsPerSlice: median(perJob.map((j) => j.writeMsPerSlice)),
  };
}

const one = runs["1"]!;
const e2eMsPerSlice = median(one.wallMs) / SLICES;
const overheadMsPerSlice = e2eMsPerSlice - rawMsPerSlice;
const targetMs = Math.max(0.1 * rawMsPerSlice, 5);
console.log("\n| workers | ORT threads each | slices/s | job wall ms (median) | first event ms | p50 event ms | p95 event ms | worker stage ms/slice |");
console.log("|---|---|---|---|---|---|---|---|");
for (const r of Object.values(runs)) {
  console.log(`| ${r.workers} | ${r.ortIntraOpThreads || "default"} | ${r.slicesPerSecond.toFixed(1)} | ${median(r.wallMs).toFixed(0)} | ${r.latencyMs.first.toFixed(0)} | ${r.latencyMs.p50.toFixed(0)} | ${r.latencyMs.p95.toFixed(0)} | ${r.workerStageMsPerSlice.toFixed(2)} |`);
}
console.log(`\nraw inference ${rawMsPerSlice.toFixed(2)} ms/slice; end to end (1 worker) ${e2eMsPerSlice.toFixed(2)} ms/slice; overhead ${overheadMsPerSlice.toFixed(2)} ms/slice (target ≤ ${targetMs.toFixed(2)} ms: ${overheadMsPerSlice <= targetMs ? "met" : "NOT met"})`);
console.log(
  `worker I/O (1 worker): result writes ${io!.saveResultsMsPerSlice.toFixed(2)} ms per slice (${io!.saveResultsCalls} statements, ${io!.saveResultsMsPerCall.toFixed(2)} ms each, overlapping the next batch's inference), ` +
    `event publishes ${io!.publishMsPerSlice.toFixed(2)} ms per slice (${io!.publishCalls} NOTIFY statements, off the slice loop); ${io!.slices} slices`,
);
for (const r of Object.values(runs)) {
  if (!r.worker) continue;
  const w = r.worker;
  console.log(
    `${r.workers} worker(s), per slice: task handling ${w.taskMsPerSlice.toFixed(2)} ms, of which inference ${w.inferenceMsPerSlice.toFixed(2)} ms and result writes ${w.writeMsPerSlice.toFixed(2)} ms; ` +
      `${w.tasks} tasks per job, first task's queue lag ${w.firstQueueLagMs.toFixed(0)} ms`,
  );
}
console.log(`load average (1, 5, 15 min): ${loadAtStart.map((l) => l.toFixed(2)).join(", ")} at start, ${loadAtEnd.map((l) => l.toFixed(2)).join(", ")} at the end`);
const result = {
  date: new Date().toISOString(), commit, cpus: cpus().length, loadAverage: { atStart: loadAtStart, atEnd: loadAtEnd }, method, modelKey, modelSha256,
  slices: SLICES, batchSize: BATCH, reps: REPS,
  rawInferenceMsPerSlice: rawMsPerSlice, rawRunsMs: rawRuns, pipeline: runs, endToEndMsPerSlice1Worker: e2eMsPerSlice,
  overheadMsPerSlice, workerIo1Worker: io, overheadTargetMs: targetMs, overheadTargetMet: overheadMsPerSlice <= targetMs,
  note:
    "end to end = from the requestSegmentation mutation to the last SLICE_RESULT event at a graphql-ws subscriber; includes the outbox relay poll (20 ms), SQS send and long poll, " +
    "one result statement per inference batch and coalesced NOTIFYs. Each worker relays the outbox (claims: every task is sent once). pipeline[n].ortIntraOpThreads: ORT_INTRA_OP_THREADS per worker (0 = ONNX Runtime's default). Raw inference runs in the benchmark process between the 1-worker jobs. The machine (2 cores) is shared with model training: see loadAverage.",
};
mkdirSync(path.dirname(values.out!), { recursive: true });
writeFileSync(values.out!, `${JSON.stringify(result, null, 2)}\n`);
console.log(`wrote ${values.out}`);
