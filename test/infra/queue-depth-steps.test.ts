// The scaling rule as data: scale to zero, about messagesPerTask messages per task, capped.
import assert from "node:assert/strict";
import { test } from "node:test";
import { queueDepthSteps, tasksForDepth } from "../../infra/lib/scaling/queue-depth-steps.ts";

test("should run zero tasks when the queue is empty", () => {
  assert.equal(tasksForDepth(queueDepthSteps(20, 40), 0), 0);
});

test("should run at least one task when a single message waits", () => {
  assert.equal(tasksForDepth(queueDepthSteps(20, 40), 1), 1);
});

test("should never give a task more than messagesPerTask messages below the ceiling", () => {
  const m = 20, max = 40, steps = queueDepthSteps(m, max);
  for (let depth = 1; depth <= m * max; depth++) {
    const tasks = tasksForDepth(steps, depth);
    assert.ok(tasks * m >= depth, `depth ${depth}: ${tasks} tasks`);
    assert.ok(tasks <= Math.max(1, Math.ceil(1.5 * Math.ceil(depth / m))), `depth ${depth}: ${tasks} tasks over-provisions`);
  }
});

test("should cap at maxTasks when the backlog exceeds what maxTasks can hold", () => {
  assert.equal(tasksForDepth(queueDepthSteps(20, 40), 1e9), 40);
});

test("should fit a 1000-task ceiling in fewer than 20 steps (the step-scaling limit) when built", () => {
  const steps = queueDepthSteps(10, 1000);
  assert.ok(steps.length < 20, `${steps.length} steps`);
  for (let i = 1; i < steps.length; i++) assert.equal(steps[i]!.lowerMessages, steps[i - 1]!.upperMessages);
});

test("should reject non-positive parameters", () => {
  assert.throws(() => queueDepthSteps(0, 10), RangeError);
  assert.throws(() => queueDepthSteps(10, 0), RangeError);
});
