// Named stage timings (milliseconds) for the preprocess → infer → postprocess pipelines.
import { performance } from "node:perf_hooks";

/**
 * Accumulates wall-clock milliseconds per named stage (performance.now(), monotonic). A stage timed
 * twice adds up. `timingsMs` is a plain object for logs and SliceResult.timingsMs.
 */
export class StageTimer {
  private readonly totals = new Map<string, number>();

  /** Runs `fn`, adding its duration (ms, also on a throw) to `stage`. */
  async time<T>(stage: string, fn: () => Promise<T> | T): Promise<T> {
    const start = performance.now();
    try {
      return await fn();
    } finally {
      this.add(stage, performance.now() - start);
    }
  }

  /** Adds `ms` milliseconds to `stage`. */
  add(stage: string, ms: number): void {
    this.totals.set(stage, (this.totals.get(stage) ?? 0) + ms);
  }

  /** Milliseconds recorded for `stage` (0 when never timed). */
  get(stage: string): number {
    return this.totals.get(stage) ?? 0;
  }

  /** Every stage's milliseconds, in first-timed order. */
  get timingsMs(): Record<string, number> {
    return Object.fromEntries(this.totals);
  }
}
