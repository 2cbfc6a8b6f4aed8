// The NOTIFY result bus on PostgreSQL: a batch of events published in one statement reaches a listener
// as separate events, in publish order, also when one of them is too large and travels as a reference
// (which keeps the event's progress counts).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import { createTempDatabase, type TempDatabase } from "../adapters/support/temp-database.ts";
import { pollUntil, uuid } from "./support/dispatch-harness.ts";

const ORG = uuid();

function result(jobId: string, k: number, runs = 3): SliceResult {
  return {
    id: uuid(), organizationId: ORG, jobId, sliceId: uuid(), sliceIndex: k, width: 256, height: 256, maskRle: Array.from({ length: runs }, (_, i) => i + 1),
    bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: { total: 1 }, createdAt: new Date(1_700_000_000_000 + k),
  };
}

describe("PostgreSQL NOTIFY result bus", () => {
  let db: TempDatabase;
  let publisher: PgNotifyResultBus;
  let listener: PgNotifyResultBus;
  /** Results the listener re-reads for references, by slice id. */
  const stored = new Map<string, SliceResult>();

  before(async () => {
    db = await createTempDatabase();
    publisher = new PgNotifyResultBus(db.url, async () => null);
    listener = new PgNotifyResultBus(db.url, async (_org, _job, sliceId) => {
      // A real re-read takes a round trip; let later notifications arrive meanwhile.
      for (let i = 0; i < 20; i++) await new Promise<void>((resolve) => setImmediate(resolve));
      return stored.get(sliceId) ?? null;
    });
    await listener.start();
  });
  after(async () => {
    await publisher?.close();
    await listener?.close();
    await db?.drop();
  });

  it("should deliver every event of a publishMany batch in order, each once and with its counts, when one result travels as a reference", async () => {
    const jobId = uuid();
    const results = [result(jobId, 0), result(jobId, 1, 3000), result(jobId, 2), result(jobId, 3)];
    stored.set(results[1]!.sliceId, results[1]!);
    const events: JobEventV1[] = [
      ...results.map((r, k): JobEventV1 => ({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: ORG, jobId, result: r, progress: { completedSlices: k + 1, failedSlices: 0, totalSlices: 4 } })),
      { schemaVersion: 1, kind: "STATUS", organizationId: ORG, jobId, status: "SUCCEEDED", completedSlices: 4, failedSlices: 0, totalSlices: 4, errorCode: null },
    ];
    assert.ok(JSON.stringify(events[1]).length > 8000, "slice 1's event is too large for one notification");
    const seen: JobEventV1[] = [];
    const unsubscribe = listener.subscribe(jobId, (e) => seen.push(e));
    try {
      await publisher.publishMany(events);
      await pollUntil("five events", async () => (seen.length >= 5 ? true : undefined));
      assert.deepEqual(seen.map((e) => (e.kind === "SLICE_RESULT" ? e.result.sliceIndex : e.status)), [0, 1, 2, 3, "SUCCEEDED"]);
      assert.deepEqual(seen.map((e) => (e.kind === "SLICE_RESULT" ? e.progress?.completedSlices : e.completedSlices)), [1, 2, 3, 4, 4], "the reference carries its counts");
      const big = seen[1]!;
      assert.deepEqual(big.kind === "SLICE_RESULT" && big.result.maskRle.length, 3000);
      const small = seen[2]!;
      assert.ok(small.kind === "SLICE_RESULT" && small.result.createdAt instanceof Date);
      assert.deepEqual(small.kind === "SLICE_RESULT" && small.result.id, results[2]!.id);
    } finally {
      unsubscribe();
    }
  });
});
