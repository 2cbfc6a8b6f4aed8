// Scaling simulation: replays a synthetic arrival process of segmentation work through the deployed
// autoscaling rule (infra/lib/scaling/queue-depth-steps.ts, the same steps the stack synthesises)
// and reports queue age, task count and cost. Discrete time, 1 s steps, seeded: same output each run.
// Usage: npm run bench:scale -- [--env prod] [--slices-per-message 16] [--slices-per-second-per-task 75 (GPU) | 12 (CPU)]
//          [--hours 3] [--seed 7] [--out bench/results/scale.json]
// Not a test: prints a table and writes JSON (STYLE.md). The derivations are in docs/SCALING.md.
import { mkdirSync, writeFileSync } from "node:fs";
import { dirname } from "node:path";
import { parseArgs } from "node:util";
import { environments } from "../infra/lib/config/environments.ts";
import { queueDepthSteps, tasksForDepth } from "../infra/lib/scaling/queue-depth-steps.ts";

const { values } = parseArgs({
  options: {
    env: { type: "string", default: "prod" },
    "slices-per-message": { type: "string", default: "16" },
    "slices-per-second-per-task": { type: "string" },
    hours: { type: "string", default: "3" },
    seed: { type: "string", default: "7" },
    out: { type: "string", default: "bench/results/scale.json" },
  },
});
const config = environments[values.env!];
if (!config) throw new Error(`unknown environment ${values.env}`);
const gpu = config.workers.kind === "gpu";
/**
 * Per-task throughput (slices/s), docs/SCALING.md §2. GPU: paper preset on an A10G, assumption G1.
 * CPU: measured, cpu preset on one core (bench/results/inference.json, 2026-12-06: the committed
 * kidney-blob COIN, 74.3 ms per slice through the pipeline at 256², plus 5.6 ms of host work on a
 * native 512² slice ⇒ 80 ms ⇒ 12.5, rounded down).
 */
const sliceRate = Number(values["slices-per-second-per-task"] ?? (gpu ? 75 : 12));
const slicesPerMessage = Number(values["slices-per-message"]);
const durationSeconds = Math.round(Number(values.hours) * 3600);
const steps = queueDepthSteps(config.scaling.messagesPerTask, config.scaling.maxTasks);

/** Delays of the control loop, in seconds (docs/SCALING.md §3). */
const timing = {
  /** SQS publishes 1-minute datapoints; the alarm sees a minute's maximum about a minute late. */
  metricPeriodSeconds: 60,
  metricDelaySeconds: 60,
  /** Step-scaling cooldown (QueueDepthScaling). */
  cooldownSeconds: 60,
  /** Task start on a running instance (image already on the host) / on Fargate (image pull). */
  taskStartSeconds: gpu ? 45 : 90,
  /** New GPU instance: managed scaling reacts (~60 s), boot + ECS agent (~120 s), pull the CUDA image (~120 s). */
  instanceStartSeconds: gpu ? 300 : 0,
  /** Idle GPU instances are kept this long after their task stops (managed scaling scale-in). */
  instanceIdleSeconds: 900,
};

/** Prices (USD, on-demand, us-east-1 list prices as known on 2026-11-25; see docs/SCALING.md §6). */
const prices = { g5xlargePerHour: 1.006, fargateVcpuPerHour: 0.04048, fargateGbPerHour: 0.004445, sqsPerMillionRequests: 0.4 };
const workers = config.workers;
const taskPerHour = workers.kind === "gpu" ? prices.g5xlargePerHour
  : (workers.cpuUnits / 1024) * prices.fargateVcpuPerHour + (workers.memoryMiB / 1024) * prices.fargateGbPerHour;

// Deterministic PRNG (mulberry32) so every run replays the same arrivals.
function prng(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}
function poisson(random: () => number, mean: number): number {
  let k = 0, p = Math.exp(-mean), s = p;
  const u = random();
  while (u > s) { k++; p *= mean / k; s += p; }
  return k;
}

/** A study of `slices` slices requested at time `t` (s). */
interface Request { readonly t: number; readonly slices: number; }

/** Synthetic arrival processes, each a list of requests over the simulated window. */
function scenario(name: string, random: () => number): Request[] {
  const out: Request[] = [];
  const studies = (ratePerMinute: (t: number) => number, minSlices: number, maxSlices: number) => {
    for (let t = 0; t < durationSeconds; t++) {
      for (let i = poisson(random, ratePerMinute(t) / 60); i > 0; i--) out.push({ t, slices: minSlices + Math.floor(random() * (maxSlices - minSlices)) });
    }
  };
  const hourOf = (t: number) => t / 3600;
  switch (name) {
    case "idle-then-one-study": // the cold path: from zero tasks (and zero instances)
      out.push({ t: 600, slices: 300 });
      break;
    case "steady-clinical": // 1 study/min of 100–600 slices, about 6 slices/s on average
      studies(() => 1, 100, 600);
      break;
    case "diurnal-ramp": // research portal day: 0.5 → 6 studies/min and back
      studies((t) => 0.5 + 5.5 * Math.sin(Math.PI * Math.min(1, hourOf(t) / (durationSeconds / 3600))) ** 2, 100, 600);
      break;
    case "bulk-analytics": // steady load plus a 200 000-slice bulk request at t = 30 min
      studies(() => 1, 100, 600);
      out.push({ t: 1800, slices: 200_000 });
      break;
    case "overload": // beyond maxTasks: the oldest-age alarm must fire
      studies(() => (sliceRate * config!.scaling.maxTasks * 1.3 * 60) / 350, 100, 600);
      break;
    default:
      throw new Error(name);
  }
  return out.sort((a, b) => a.t - b.t);
}

interface Result {
  readonly scenario: string;
  readonly slices: number;
  readonly messages: number;
  readonly waitP50Seconds: number;
  readonly waitP95Seconds: number;
  readonly maxOldestAgeSeconds: number;
  readonly finalOldestAgeSeconds: number;
  readonly maxTasks: number;
  readonly taskHours: number;
  readonly costPer1000Slices: number;
  readonly bounded: boolean;
  readonly oldestAgeAlarm: boolean;
}

function simulate(name: string): Result {
  const random = prng(Number(values.seed) + name.length * 7919);
  const requests = scenario(name, random);
  // Queue of messages (enqueue time, slices), FIFO-ish (SQS standard is best-effort ordered).
  const queue: { t: number; slices: number }[] = [];
  let head = 0;
  let next = 0;
  /** Running tasks: time they become ready, and the message in progress (remaining slices, enqueue time). */
  const tasks: { readyAt: number; busy: { remaining: number } | null }[] = [];
  let instances = 0; // GPU instances up (or starting); their tasks start when the instance is up
  const instanceFreeSince: number[] = [];
  let desired = 0;
  let lastScale = -Infinity;
  const depthHistory: number[] = []; // per-second depth (visible + in flight)
  const waits: number[] = [];
  let maxOldest = 0, maxTaskCount = 0, taskSeconds = 0, slicesTotal = 0, messagesTotal = 0;
  let alarmBreaches = 0;
  let instanceSeconds = 0; // what GPU capacity costs (instances idle or busy)
  let oldestAge = 0;
  for (let t = 0; t < durationSeconds; t++) {
    while (next < requests.length && requests[next]!.t === t) {
      const r = requests[next++]!;
      slicesTotal += r.slices;
      for (let s = r.slices; s > 0; s -= slicesPerMessage) { queue.push({ t, slices: Math.min(slicesPerMessage, s) }); messagesTotal++; }
    }
    // Control loop: every metric period, the alarm sees the max depth of the minute that ended metricDelay ago.
    if (t % timing.metricPeriodSeconds === 0 && t >= timing.metricPeriodSeconds + timing.metricDelaySeconds && t - lastScale >= timing.cooldownSeconds) {
      const end = t - timing.metricDelaySeconds;
      const window = depthHistory.slice(end - timing.metricPeriodSeconds, end);
      const observed = Math.max(0, ...window);
      const target = tasksForDepth(steps, observed);
      if (target !== desired) { desired = target; lastScale = t; }
    }
    // ECS converges on `desired`: start tasks (after instance/task start delays), stop idle surplus ones.
    while (tasks.length < desired) {
      let startDelay = timing.taskStartSeconds;
      if (gpu) {
        if (instances <= tasks.length) { instances++; startDelay += timing.instanceStartSeconds; }
      }
      tasks.push({ readyAt: t + startDelay, busy: null });
    }
    if (tasks.length > desired) {
      // Graceful scale-in: stop tasks that are idle or not yet started; busy ones finish their message first.
      for (let i = tasks.length - 1; i >= 0 && tasks.length > desired; i--) {
        if (!tasks[i]!.busy) { tasks.splice(i, 1); if (gpu) instanceFreeSince.push(t); }
      }
    }
    if (gpu) {
      // Managed scaling removes an instance idle for instanceIdleSeconds.
      while (instanceFreeSince.length > 0 && t - instanceFreeSince[0]! >= timing.instanceIdleSeconds && instances > tasks.length) { instanceFreeSince.shift(); instances--; }
      while (instanceFreeSince.length > Math.max(0, instances - tasks.length)) instanceFreeSince.shift();
    }
    // Work: each ready task processes sliceRate slices per second, one message at a time.
    let inFlight = 0;
    for (const task of tasks) {
      if (task.readyAt > t) continue;
      taskSeconds++;
      let budget = sliceRate;
      while (budget > 0) {
        if (!task.busy) {
          if (head >= queue.length) break;
          const m = queue[head++]!;
          waits.push(t - m.t);
          task.busy = { remaining: m.slices };
        }
        const done = Math.min(budget, task.busy.remaining);
        task.busy.remaining -= done;
        budget -= done;
        if (task.busy.remaining <= 0) task.busy = null;
      }
      if (task.busy) inFlight++;
    }
    const visible = queue.length - head;
    depthHistory.push(visible + inFlight);
    oldestAge = visible > 0 ? t - queue[head]!.t : 0;
    maxOldest = Math.max(maxOldest, oldestAge);
    if (oldestAge > config!.alarms.oldestMessageAgeSeconds) alarmBreaches++;
    maxTaskCount = Math.max(maxTaskCount, tasks.length);
    if (gpu) instanceSeconds += instances;
    if (head > 100_000) { queue.splice(0, head); head = 0; }
  }
  waits.sort((a, b) => a - b);
  const q = (p: number) => (waits.length ? waits[Math.min(waits.length - 1, Math.floor(p * waits.length))]! : 0);
  const billedHours = (gpu ? instanceSeconds : taskSeconds) / 3600;
  const processed = waits.length * slicesPerMessage;
  const sqsRequests = messagesTotal * (0.1 /* batched send */ + 1 /* receive */ + 0.1 /* batched delete */);
  const cost = billedHours * taskPerHour + (sqsRequests / 1e6) * prices.sqsPerMillionRequests;
  return {
    scenario: name, slices: slicesTotal, messages: messagesTotal,
    waitP50Seconds: q(0.5), waitP95Seconds: q(0.95), maxOldestAgeSeconds: maxOldest, finalOldestAgeSeconds: oldestAge,
    maxTasks: maxTaskCount, taskHours: +billedHours.toFixed(2),
    costPer1000Slices: processed > 0 ? +((cost / Math.min(processed, slicesTotal)) * 1000).toFixed(4) : 0,
    bounded: oldestAge <= config!.alarms.oldestMessageAgeSeconds,
    oldestAgeAlarm: alarmBreaches >= 3 * 60,
  };
}
const scenarios = ["idle-then-one-study", "steady-clinical", "diurnal-ramp", "bulk-analytics", "overload"];
const results = scenarios.map(simulate);
console.log(`coinseg scaling simulation: env ${config.name} (${config.workers.kind} workers), ${sliceRate} slices/s/task, ` +
  `${slicesPerMessage} slices/message, messagesPerTask ${config.scaling.messagesPerTask}, maxTasks ${config.scaling.maxTasks}, ${values.hours} h`);
console.table(results.map((r) => ({
  scenario: r.scenario, slices: r.slices, "wait p50 s": r.waitP50Seconds, "wait p95 s": r.waitP95Seconds,
  "max oldest age s": r.maxOldestAgeSeconds, "max tasks": r.maxTasks, [gpu ? "instance-h" : "task-h"]: r.taskHours,
  "$ / 1000 slices": r.costPer1000Slices, bounded: r.bounded, "age alarm": r.oldestAgeAlarm,
})));
mkdirSync(dirname(values.out!), { recursive: true });
writeFileSync(values.out!, JSON.stringify({
  benchmark: "scale (simulation)", date: new Date().toISOString(), environment: config.name, workerKind: config.workers.kind,
  assumptions: { slicesPerSecondPerTask: sliceRate, slicesPerMessage, timing, prices, taskPerHour, pricesDate: "2026-11-25 (list prices as known; verify before budgeting)" },
  rule: { messagesPerTask: config.scaling.messagesPerTask, maxTasks: config.scaling.maxTasks, steps: steps.map((s) => ({ ...s, upperMessages: Number.isFinite(s.upperMessages) ? s.upperMessages : null })) },
  oldestMessageAgeAlarmSeconds: config.alarms.oldestMessageAgeSeconds,
  results,
}, null, 2) + "\n");
console.log(`wrote ${values.out}`);
