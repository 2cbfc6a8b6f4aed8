import { test } from "node:test";
import assert from "node:assert/strict";
import { Worker } from "node:worker_threads";
import type { FuzzJob, FuzzReport } from "./fuzz-worker.ts";

/** A case taking longer than this is a hang: the worker is terminated and the test fails. */
const HANG_MS = 3000;
/** Time allowed for the worker to load modules and build its seed files before the first case. */
const STARTUP_MS = 30_000;
/** Every answered case must have taken less than this. */
const CASE_BOUND_MS = 1000;

const TSX_API = import.meta.resolve("tsx/esm/api");
const WORKER_URL = new URL("./fuzz-worker.ts", import.meta.url).href;

/** Runs a fuzz job in a worker so that a decoder stuck in a loop can be killed. */
function runJob(job: FuzzJob): Promise<FuzzReport> {
  return new Promise((resolve, reject) => {
    // A worker cannot load a .ts entry directly; this bootstrap registers tsx in the worker first.
    const bootstrap = `import(${JSON.stringify(TSX_API)}).then((tsx) => { tsx.register(); return import(${JSON.stringify(WORKER_URL)}); })`;
    const worker = new Worker(bootstrap, { eval: true, workerData: job });
    let lastCase = -1;
    let watchdog: NodeJS.Timeout | undefined;
    const arm = (ms: number): void => {
      clearTimeout(watchdog);
      watchdog = setTimeout(() => {
        void worker.terminate();
        reject(new Error(`${job.format} fuzz case ${lastCase} (seed ${job.seed}) did not finish within ${ms} ms`));
      }, ms);
    };
    arm(STARTUP_MS);
    worker.on("message", (m: { type: "case"; index: number } | { type: "done"; report: FuzzReport }) => {
      if (m.type === "case") {
        lastCase = m.index;
        arm(HANG_MS);
      } else {
        clearTimeout(watchdog);
        resolve(m.report);
      }
    });
    worker.on("error", (err) => {
      clearTimeout(watchdog);
      reject(err);
    });
    worker.on("exit", (code) => {
      clearTimeout(watchdog);
      if (code !== 0) reject(new Error(`fuzz worker exited with code ${code} after case ${lastCase}`));
    });
  });
}

const JOBS: FuzzJob[] = [
  { format: "dicom", seed: 0xd1c0, cases: 900 },
  { format: "nifti", seed: 0x41f7, cases: 800 },
  { format: "png", seed: 0x9e6, cases: 500 },
];

for (const job of JOBS) {
  test(`should answer every one of ${job.cases} mutated ${job.format} inputs with a coded error or a valid volume when fuzzed`, async () => {
    const report = await runJob(job);
    assert.equal(report.cases, job.cases);
    assert.deepEqual(report.failures, []);
    assert.ok(report.maxCaseMs < CASE_BOUND_MS, `slowest case took ${report.maxCaseMs.toFixed(1)} ms`);
    // The mutations must actually exercise the error paths, not just produce valid files.
    const errors = Object.values(report.codes).reduce((a, b) => a + b, 0);
    assert.ok(errors > job.cases / 4, `only ${errors} coded errors: ${JSON.stringify(report.codes)}`);
    console.log(`${job.format}: ${report.volumes} volumes, ${JSON.stringify(report.codes)}, slowest ${report.maxCaseMs.toFixed(1)} ms`);
  });
}
