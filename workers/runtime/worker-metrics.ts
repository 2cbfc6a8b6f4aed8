// The worker's counters and histograms, rendered in Prometheus text exposition format (0.0.4).

type Labels = Readonly<Record<string, string>>;

const DEFAULT_BUCKETS_SECONDS = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120];

class Histogram {
  private readonly series = new Map<string, { labels: Labels; counts: number[]; sum: number; count: number }>();
  constructor(readonly name: string, readonly help: string, readonly buckets = DEFAULT_BUCKETS_SECONDS) {}

  observe(value: number, labels: Labels = {}): void {
    const key = labelText(labels);
    let s = this.series.get(key);
    if (!s) this.series.set(key, (s = { labels, counts: this.buckets.map(() => 0), sum: 0, count: 0 }));
    for (let i = 0; i < this.buckets.length; i++) if (value <= this.buckets[i]!) s.counts[i]!++;
    s.sum += value;
    s.count++;
  }

  /** Sum and count of the observations with exactly `labels`. */
  totals(labels: Labels = {}): { sum: number; count: number } {
    const s = this.series.get(labelText(labels));
    return { sum: s?.sum ?? 0, count: s?.count ?? 0 };
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} histogram`];
    for (const s of this.series.values()) {
      this.buckets.forEach((b, i) => lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: String(b) })} ${s.counts[i]}`));
      lines.push(`${this.name}_bucket${labelText({ ...s.labels, le: "+Inf" })} ${s.count}`);
      lines.push(`${this.name}_sum${labelText(s.labels)} ${s.sum}`, `${this.name}_count${labelText(s.labels)} ${s.count}`);
    }
    return lines;
  }
}

class Counter {
  private readonly values = new Map<string, number>();
  constructor(readonly name: string, readonly help: string, readonly type: "counter" | "gauge" = "counter") {}

  inc(labels: Labels = {}, by = 1): void {
    const key = labelText(labels);
    this.values.set(key, (this.values.get(key) ?? 0) + by);
  }

  /** Current value for `labels` (0 when never touched). */
  get(labels: Labels = {}): number {
    return this.values.get(labelText(labels)) ?? 0;
  }

  render(): string[] {
    const lines = [`# HELP ${this.name} ${this.help}`, `# TYPE ${this.name} ${this.type}`];
    if (this.values.size === 0 && this.type === "gauge") lines.push(`${this.name} 0`);
    for (const [key, v] of this.values) lines.push(`${this.name}${key} ${v}`);
    return lines;
  }
}

function labelText(labels: Labels): string {
  const entries = Object.entries(labels);
  if (entries.length === 0) return "";
  return `{${entries.map(([k, v]) => `${k}="${v.replace(/\\/g, "\\\\").replace(/"/g, '\\"').replace(/\n/g, "\\n")}"`).join(",")}}`;
}

/** Every metric the worker runtime exports. Units are in the names (seconds). */
export class WorkerMetrics {
  /** Messages finished, by outcome: ack | retry | release | dead_lettered | permanent_failure | job_not_running. */
  readonly messages = new Counter("coinseg_worker_messages_total", "Task messages handled, by outcome.");
  readonly slices = new Counter("coinseg_worker_slice_results_total", "Slice results written (new rows only).");
  readonly heartbeats = new Counter("coinseg_worker_visibility_heartbeats_total", "Visibility-timeout extensions sent.");
  /** Messages between receive and their outcome (a slot may hold one more whose events and ack are still going out). */
  readonly inFlight = new Counter("coinseg_worker_tasks_in_flight", "Task messages being handled now, including one per slot whose events and ack are still going out.", "gauge");
  readonly queueLag = new Histogram("coinseg_worker_queue_lag_seconds", "Time from send to receive of a task message.");
  readonly taskDuration = new Histogram("coinseg_worker_task_duration_seconds", "Time to handle one task message.");
  readonly stage = new Histogram("coinseg_worker_stage_seconds", "Per-slice pipeline stage time, by stage.");
  /**
   * Time of each result write and event publish call, by operation: `save_results` (one statement per
   * inference batch) | `publish` (one NOTIFY statement for every event queued meanwhile).
   */
  readonly io = new Histogram("coinseg_worker_io_seconds", "Result write (per batch) and event publish (per coalesced send) time per call, by operation.", [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 1]);

  /** The Prometheus text exposition of every metric. */
  render(): string {
    return [this.messages, this.slices, this.heartbeats, this.inFlight, this.queueLag, this.taskDuration, this.stage, this.io].flatMap((m) => m.render()).join("\n") + "\n";
  }
}
