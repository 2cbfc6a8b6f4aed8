import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { InMemoryTaskQueue } from "../../adapters/queue/in-memory-task-queue.ts";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";

function task(id: string): InferenceTaskV1 {
  return { schemaVersion: 1, taskId: id, jobId: "j", organizationId: "o", studyId: "s", sliceIds: [], method: "COIN", modelKey: "m", params: {} };
}

describe("in-memory task queue", () => {
  it("should hand tasks to the handler one at a time in the order they were sent", async () => {
    const seen: string[] = [];
    let running = 0;
    const queue = new InMemoryTaskQueue({
      handle: async (t) => {
        running++;
        assert.equal(running, 1);
        await Promise.resolve();
        seen.push(t.taskId);
        running--;
      },
    });
    await queue.send(task("a"));
    await queue.send(task("b"));
    await queue.send(task("c"));
    await queue.idle();
    assert.deepEqual(seen, ["a", "b", "c"]);
  });

  it("should retry a failing task and dead-letter it after the third attempt", async () => {
    let attempts = 0;
    const dead: string[] = [];
    const queue = new InMemoryTaskQueue({ handle: async () => { attempts++; throw new Error("boom"); } }, (t) => dead.push(t.taskId));
    await queue.send(task("x"));
    await queue.idle();
    assert.equal(attempts, 3);
    assert.deepEqual(dead, ["x"]);
  });
});
