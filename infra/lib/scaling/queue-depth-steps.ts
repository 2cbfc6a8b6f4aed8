// The autoscaling rule for workers, as data: task count as a step function of queue depth.
// Shared by the CDK construct (which turns it into a step-scaling policy) and bench/scale.ts
// (which replays arrivals through it), so the simulated rule is the deployed rule.

/** One step: while `lowerMessages <= depth < upperMessages`, run exactly `tasks` tasks. */
export interface QueueDepthStep {
  /** Inclusive lower bound on visible + in-flight messages. */
  readonly lowerMessages: number;
  /** Exclusive upper bound; `Infinity` for the last step. */
  readonly upperMessages: number;
  /** Exact task count for this step. */
  readonly tasks: number;
}

/** Task levels grow by about 1.5× per step so a 1000-task ceiling needs fewer than 20 steps. */
function taskLevels(maxTasks: number): number[] {
  const levels: number[] = [];
  for (let t = 1; t < maxTasks; t = Math.max(t + 1, Math.ceil(t * 1.5))) levels.push(t);
  levels.push(maxTasks);
  return levels;
}

/**
 * Steps that keep about `messagesPerTask` messages per task: depth 0 → 0 tasks (scale to zero),
 * depth in (m·t₍ₖ₋₁₎, m·tₖ] → tₖ tasks, anything above m·maxTasks → maxTasks.
 * Levels are rounded up (at most ~1.5× the ideal ceil(depth / m)), never down.
 * @param messagesPerTask messages (visible + in flight) one task should hold, ≥ 1
 * @param maxTasks ceiling on tasks, ≥ 1
 * @throws RangeError for non-positive inputs
 */
export function queueDepthSteps(messagesPerTask: number, maxTasks: number): QueueDepthStep[] {
  if (!(messagesPerTask >= 1) || !Number.isInteger(maxTasks) || maxTasks < 1) {
    throw new RangeError(`messagesPerTask must be ≥ 1 and maxTasks a positive integer, got ${messagesPerTask}, ${maxTasks}`);
  }
  const steps: QueueDepthStep[] = [{ lowerMessages: 0, upperMessages: 1, tasks: 0 }];
  let lower = 1;
  const levels = taskLevels(maxTasks);
  levels.forEach((tasks, i) => {
    const upper = i === levels.length - 1 ? Infinity : tasks * messagesPerTask + 1;
    steps.push({ lowerMessages: lower, upperMessages: upper, tasks });
    lower = upper;
  });
  return steps;
}

/**
 * The task count the steps prescribe for a queue depth (visible + in-flight messages).
 * @param depthMessages metric value, ≥ 0
 */
export function tasksForDepth(steps: readonly QueueDepthStep[], depthMessages: number): number {
  const step = steps.find((s) => depthMessages >= s.lowerMessages && depthMessages < s.upperMessages);
  if (!step) throw new RangeError(`no step covers depth ${depthMessages}`);
  return step.tasks;
}
