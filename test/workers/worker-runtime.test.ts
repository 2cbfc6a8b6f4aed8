// WorkerRuntime's message flow on an in-process TaskMessageSource: a slot starts its next message while
// the previous one's events and ack are still going out, acks each message only after its events left,
// and keeps at most one message finishing per slot.
import { afterEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import type { InferenceTaskV1 } from "../../core/domain/inference-task.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { ResultBus } from "../../core/ports/result-bus.port.ts";
import type { SliceResultSink } from "../../core/ports/slice-result-sink.port.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import type { ReceivedTaskMessage, TaskMessageSource } from "../../workers/runtime/task-message-source.port.ts";
import { WorkerRuntime } from "../../workers/runtime/worker-runtime.ts";

const ORG = "00000000-0000-4000-8000-000000000001";

function task(n: number): InferenceTaskV1 {
  const id = `00000000-0000-4000-8000-${String(100 + n).padStart(12, "0")}`;
  return { schemaVersion: 1, taskId: id, jobId: id, organizationId: ORG, studyId: ORG, sliceIds: [ORG], method: "COIN", modelKey: "m", params: {} };
}

/** Every gate made by a test; all are opened after each test, so a failing test cannot hang its teardown. */
const gates: (() => void)[] = [];

/** A gate a test opens by hand. */
function gate(): { wait: Promise<void>; open: () => void } {
  let open!: () => void;
  const wait = new Promise<void>((resolve) => (open = resolve));
  gates.push(open);
  return { wait, open };
}

/** Waits (bounded) until `check` holds; yields to the event loop between checks. */
async function until(what: string, check: () => boolean): Promise<void> {
  for (let i = 0; i < 10_000; i++) {
    if (check()) return;
    await new Promise<void>((resolve) => setImmediate(resolve));
  }
  throw new Error(`never happened: ${what}`);
}

/** Messages handed out one per receive, in order; `log` records every call in order. */
class ScriptedSource implements TaskMessageSource {
  readonly visibilityTimeoutSeconds = 30;
  readonly maxReceiveCount = 3;
  private readonly pending: ReceivedTaskMessage[];
  private wake: (() => void) | null = null;
  constructor(tasks: InferenceTaskV1[], readonly log: string[], private readonly ackGate: (n: number) => Promise<void>) {
    this.pending = tasks.map((t, n) => ({ messageId: `m${n}`, receiptHandle: `r${n}`, body: JSON.stringify(t), receiveCount: 1, sentAtMs: Date.now() }));
  }
  async receive(_max: number, signal: AbortSignal): Promise<ReceivedTaskMessage[]> {
    const next = this.pending.shift();
    if (next) return [next];
    // Nothing left: park until stop() aborts the poll.
    await new Promise<void>((resolve) => {
      this.wake = resolve;
      signal.addEventListener("abort", () => resolve(), { once: true });
    });
    return [];
  }
  async ack(message: ReceivedTaskMessage): Promise<void> {
    await this.ackGate(Number(message.messageId.slice(1)));
    this.log.push(`ack ${message.messageId}`);
  }
  async setVisibility(): Promise<void> {}
}

describe("WorkerRuntime message flow", () => {
  let runtime: WorkerRuntime | null = null;
  afterEach(async () => {
    for (const open of gates.splice(0)) open();
    await runtime?.stop({ abortPolls: true });
    runtime = null;
  });

  function start(tasks: InferenceTaskV1[], options: { publishGate?: Promise<void>; ackGate?: (n: number) => Promise<void> }) {
    const log: string[] = [];
    const bus: ResultBus = {
      async publish(event: JobEventV1) {
        await options.publishGate;
        log.push(`published ${event.jobId.slice(-1)}`);
      },
      subscribe: () => () => {},
    };
    const source = new ScriptedSource(tasks, log, options.ackGate ?? (async () => {}));
    runtime = new WorkerRuntime({
      source, bus, logger: pino({ level: "silent" }), store: {} as ObjectStore, sink: {} as SliceResultSink,
      createHandler: (deps) => ({
        async handle(t) {
          log.push(`start ${t.jobId.slice(-1)}`);
          await deps.bus.publish({ schemaVersion: 1, kind: "STATUS", organizationId: ORG, jobId: t.jobId, status: "RUNNING", completedSlices: 0, failedSlices: 0, totalSlices: 1, errorCode: null });
        },
      }),
    });
    runtime.start();
    return log;
  }

  it("should start the next message while the previous one's events are still going out and ack each only after its events left", async () => {
    const publish = gate();
    const log = start([task(0), task(1)], { publishGate: publish.wait });
    await until("the second task starts", () => log.includes("start 1"));
    assert.deepEqual(log, ["start 0", "start 1"], "nothing is acked while its events are held");
    publish.open();
    await until("both acked", () => log.includes("ack m0") && log.includes("ack m1"));
    assert.ok(log.indexOf("published 0") < log.indexOf("ack m0"));
    assert.ok(log.indexOf("published 1") < log.indexOf("ack m1"));
  });

  it("should keep at most one message finishing per slot when an ack is slow", async () => {
    const firstAck = gate();
    const log = start([task(0), task(1), task(2)], { ackGate: (n) => (n === 0 ? firstAck.wait : Promise.resolve()) });
    await until("the second task starts", () => log.includes("start 1"));
    await until("the second task's event is out", () => log.includes("published 1"));
    // m0 is still being acked: the slot must not take a third message yet.
    await new Promise<void>((resolve) => setImmediate(resolve));
    assert.ok(!log.includes("start 2"), log.join(", "));
    firstAck.open();
    await until("the third task acked", () => log.includes("ack m2"));
    assert.ok(log.indexOf("ack m0") < log.indexOf("start 2"));
  });
});
