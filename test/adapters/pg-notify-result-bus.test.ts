import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { once } from "node:events";
import { EventEmitter } from "node:events";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import { ADMIN_DATABASE_URL } from "./support/temp-database.ts";

function result(maskRle: number[]): SliceResult {
  return {
    id: "r", organizationId: "o", jobId: "job-1", sliceId: "s", sliceIndex: 3, width: 4, height: 4, maskRle, bbox: [], areaPx: 0,
    pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: { infer: 1 }, createdAt: new Date("2026-11-26T00:00:00.000Z"),
  };
}

describe("PostgreSQL LISTEN/NOTIFY result bus", () => {
  let publisher: PgNotifyResultBus;
  let listener: PgNotifyResultBus;
  const loaded: string[] = [];
  before(async () => {
    publisher = new PgNotifyResultBus(ADMIN_DATABASE_URL, async () => null);
    listener = new PgNotifyResultBus(ADMIN_DATABASE_URL, async (_org, jobId, sliceId) => {
      loaded.push(`${jobId}/${sliceId}`);
      return result([16]);
    });
    await listener.start();
  });
  after(async () => {
    await publisher.close();
    await listener.close();
  });

  function nextEvent(jobId: string): Promise<JobEventV1> {
    const emitter = new EventEmitter();
    const unsubscribe = listener.subscribe(jobId, (e) => {
      unsubscribe();
      emitter.emit("event", e);
    });
    return once(emitter, "event").then(([e]) => e as JobEventV1);
  }

  it("should deliver a status event to a subscriber in another connection", async () => {
    const received = nextEvent("job-1");
    await publisher.publish({ schemaVersion: 1, kind: "STATUS", organizationId: "o", jobId: "job-1", status: "RUNNING", completedSlices: 0, failedSlices: 0, totalSlices: 2, errorCode: null });
    const event = await received;
    assert.equal(event.kind, "STATUS");
    assert.equal(event.kind === "STATUS" && event.status, "RUNNING");
  });

  it("should restore the result's date when a small slice result is delivered inline", async () => {
    const received = nextEvent("job-1");
    await publisher.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: "o", jobId: "job-1", result: result([16]) });
    const event = await received;
    assert.ok(event.kind === "SLICE_RESULT" && event.result.createdAt instanceof Date);
    assert.deepEqual(loaded, []);
  });

  it("should send a reference and reload the result when it is too large for a notification", async () => {
    const received = nextEvent("job-1");
    const big = Array.from({ length: 4000 }, () => 1);
    await publisher.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: "o", jobId: "job-1", result: result(big) });
    const event = await received;
    assert.deepEqual(loaded, ["job-1/s"]);
    assert.ok(event.kind === "SLICE_RESULT" && event.result.sliceIndex === 3);
  });
});
