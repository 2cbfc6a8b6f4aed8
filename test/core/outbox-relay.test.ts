import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";

function task(n: number): InferenceTaskV1 {
  return { schemaVersion: 1, taskId: `t${n}`, jobId: "j", organizationId: "o", studyId: "s", sliceIds: [`s${n}`], method: "COIN", modelKey: "m", params: {} };
}

function memoryOutbox(messages: OutboxMessage[]): Outbox & { dispatched: string[]; failed: string[] } {
  const dispatched: string[] = [];
  const failed: string[] = [];
  return {
    dispatched,
    failed,
    async pending(limit) {
      return messages.filter((m) => !dispatched.includes(m.id)).slice(0, limit);
    },
    async markDispatched(id) {
      dispatched.push(id);
    },
    async markAttemptFailed(id) {
      failed.push(id);
    },
  };
}

describe("outbox relay", () => {
  it("should send every pending task in order and mark each dispatched when the queue accepts them", async () => {
    const outbox = memoryOutbox([1, 2, 3].map((n) => ({ id: `m${n}`, organizationId: "o", topic: INFERENCE_TASK_TOPIC, payload: task(n), attempts: 0 })));
    const sent: string[] = [];
    const relay = new OutboxRelay(outbox, { send: async (t) => void sent.push(t.taskId) }, undefined, 2);
    assert.equal(await relay.drain(), 3);
    assert.deepEqual(sent, ["t1", "t2", "t3"]);
    assert.deepEqual(outbox.dispatched, ["m1", "m2", "m3"]);
  });

  it("should record a failed attempt and report the error when the queue rejects a task", async () => {
    const outbox = memoryOutbox([{ id: "m1", organizationId: "o", topic: INFERENCE_TASK_TOPIC, payload: task(1), attempts: 0 }]);
    const errors: unknown[] = [];
    const relay = new OutboxRelay(outbox, { send: async () => { throw new Error("queue down"); } }, (e) => errors.push(e));
    await relay.kick();
    assert.deepEqual(outbox.failed, ["m1"]);
    assert.deepEqual(outbox.dispatched, []);
    assert.equal((errors[0] as Error).message, "queue down");
  });
});
