import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { OutboxRelay } from "../../core/services/outbox-relay.ts";
import { INFERENCE_TASK_TOPIC, type InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { Outbox, OutboxMessage } from "../../core/ports/outbox.port.ts";

function task(n: number): InferenceTaskV1 {
  return { schemaVersion: 1, taskId: `t${n}`, jobId: "j", organizationId: "o", studyId: "s", sliceIds: [`s${n}`], method: "COIN", modelKey: "m", params: {} };
}

function message(n: number): OutboxMessage {
  return { id: `m${n}`, organizationId: "o", topic: INFERENCE_TASK_TOPIC, payload: task(n), attempts: 0 };
}

/** An in-memory outbox with claims (no lease expiry) that records every call. */
function memoryOutbox(messages: OutboxMessage[]): Outbox & { dispatched: string[][]; failed: string[][]; released: string[][]; claimed: Set<string> } {
  const dispatched: string[][] = [];
  const failed: string[][] = [];
  const released: string[][] = [];
  const claimed = new Set<string>();
  const done = () => new Set(dispatched.flat());
  return {
    dispatched,
    failed,
    released,
    claimed,
    async claim(limit) {
      const out = messages.filter((m) => !done().has(m.id) && !claimed.has(m.id)).slice(0, limit);
      for (const m of out) claimed.add(m.id);
      return out;
    },
    async markDispatched(ids) {
      dispatched.push([...ids]);
      for (const id of ids) claimed.delete(id);
    },
    async markAttemptFailed(ids) {
      failed.push([...ids]);
      for (const id of ids) claimed.delete(id);
    },
    async release(ids) {
      released.push([...ids]);
      for (const id of ids) claimed.delete(id);
    },
  };
}

describe("outbox relay", () => {
  it("should send every pending task in order and mark each dispatched when the queue accepts them", async () => {
    const outbox = memoryOutbox([1, 2, 3].map(message));
    const sent: string[] = [];
    const relay = new OutboxRelay(outbox, { send: async (t) => void sent.push(t.taskId) }, undefined, 2);
    assert.equal(await relay.drain(), 3);
    assert.deepEqual(sent, ["t1", "t2", "t3"]);
    assert.deepEqual(outbox.dispatched, [["m1"], ["m2"], ["m3"]]);
    assert.equal(outbox.claimed.size, 0);
  });

  it("should record a failed attempt and report the error when the queue rejects a task", async () => {
    const outbox = memoryOutbox([message(1)]);
    const errors: unknown[] = [];
    const relay = new OutboxRelay(outbox, { send: async () => { throw new Error("queue down"); } }, (e) => errors.push(e));
    await relay.kick();
    assert.deepEqual(outbox.failed, [["m1"]]);
    assert.deepEqual(outbox.dispatched, []);
    assert.equal((errors[0] as Error).message, "queue down");
  });

  it("should release the claimed messages it did not send when a send fails mid-claim", async () => {
    const outbox = memoryOutbox([1, 2, 3, 4].map(message));
    const relay = new OutboxRelay(outbox, {
      send: async (t) => {
        if (t.taskId === "t2") throw new Error("queue down");
      },
    });
    await assert.rejects(relay.drain(), /queue down/);
    assert.deepEqual(outbox.dispatched, [["m1"]]);
    assert.deepEqual(outbox.failed, [["m2"]]);
    assert.deepEqual(outbox.released, [["m3", "m4"]]);
    assert.equal(outbox.claimed.size, 0, "nothing stays claimed until a lease expires");
  });

  it("should mark the accepted tasks in one write and the refused ones in another when a batch send partly fails", async () => {
    const outbox = memoryOutbox([1, 2, 3].map(message));
    const refused = new Error("entry refused");
    const relay = new OutboxRelay(outbox, {
      send: async () => assert.fail("the batch path is used"),
      sendBatch: async (tasks) => ({ failed: tasks.filter((t) => t.taskId === "t2").map((t) => ({ taskId: t.taskId, error: refused })) }),
    });
    await assert.rejects(relay.drain(), (e) => e === refused);
    assert.deepEqual(outbox.dispatched, [["m1", "m3"]]);
    assert.deepEqual(outbox.failed, [["m2"]]);
  });
});
