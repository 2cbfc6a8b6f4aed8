// SLICE_RESULT events carry the job's counts (PROTOCOL.md §6): the subscription takes them from the
// event instead of re-reading the job per result, keeps the largest when events of different workers
// arrive out of order, and reads the database only when the job was QUEUED at subscribe time.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient } from "graphql-ws";
import type { JobEventV1 } from "../../core/domain/job-event.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import { startApiHarness, type ApiHarness } from "../api/support/api-harness.ts";
import { studyWithSlices } from "../api/support/study-flow.ts";

type Update = { job: { status: string; completedSlices: number; startedAt: string | null }; result: { sliceIndex: number } | null };

describe("subscription progress from SLICE_RESULT events", () => {
  let api: ApiHarness;
  before(async () => {
    api = await startApiHarness();
  });
  after(async () => {
    await api?.close();
  });

  /** What a test does once the subscription has delivered its snapshot. */
  interface Driver {
    /** Stores every slice's result in one write, as a worker's batch does; returns them in slice order. */
    storeAll(): Promise<SliceResult[]>;
    /** Publishes a SLICE_RESULT event with `completedSlices` as its progress. */
    announce(result: SliceResult, completedSlices: number): Promise<void>;
    markRunning(): Promise<void>;
    /** Publishes a RUNNING STATUS event with `completedSlices`, as a worker does after its last write. */
    announceRunning(completedSlices: number): Promise<void>;
    succeed(): Promise<void>;
  }

  /** Requests a job on a 3-slice study, subscribes, runs `drive` after the snapshot, returns every update. */
  async function stream(options: { runningBeforeSubscribe: boolean }, drive: (d: Driver) => Promise<void>): Promise<Update[]> {
    const key = api.seed.annotatorA.key;
    const org = api.seed.orgA;
    const { studyId, sliceIds } = await studyWithSlices(api, key, 3);
    const res = await api.gql(key, `mutation ($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN, modelKey: "test-coin" }) { job { id } } }`, { s: studyId });
    const jobId = res.body.data!.requestSegmentation.job.id as string;
    const publish = (event: JobEventV1) => api.bus.publish(event);
    const driver: Driver = {
      async storeAll() {
        const saved = await api.services.jobs.saveResults(org, jobId, sliceIds.map((sliceId) => ({
          jobId, sliceId, width: 4, height: 3, maskRle: [12], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {},
        })));
        return saved.results.map((r) => r.result);
      },
      announce: (result, completedSlices) => publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: org, jobId, result, progress: { completedSlices, failedSlices: 0, totalSlices: 3 } }),
      async markRunning() {
        await publish(statusEvent((await api.services.jobs.markRunning(org, jobId))!));
      },
      announceRunning: (completedSlices) => publish({
        schemaVersion: 1, kind: "STATUS", organizationId: org, jobId, status: "RUNNING", completedSlices, failedSlices: 0, totalSlices: 3, errorCode: null,
      }),
      async succeed() {
        await publish(statusEvent((await api.services.jobs.finish(org, jobId, "SUCCEEDED"))!));
      },
    };
    if (options.runningBeforeSubscribe) await api.services.jobs.markRunning(org, jobId);
    const ws = createClient({ url: api.server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: key }, retryAttempts: 0 });
    const updates: Update[] = [];
    try {
      for await (const msg of ws.iterate<{ segmentationJobUpdated: Update }>({
        query: `subscription ($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status completedSlices startedAt } result { sliceIndex } } }`, variables: { j: jobId },
      })) {
        assert.equal(msg.errors, undefined, JSON.stringify(msg.errors));
        updates.push(msg.data!.segmentationJobUpdated);
        if (updates.length === 1) await drive(driver);
      }
    } finally {
      await ws.dispose();
    }
    return updates;
  }

  const summary = (updates: readonly Update[]) => updates.map((u) => [u.job.status, u.job.completedSlices, u.result?.sliceIndex ?? null]);

  it("should take each result's counts from its event, not from the database, when the events carry them", async () => {
    const updates = await stream({ runningBeforeSubscribe: true }, async (d) => {
      // All three are stored before the first event leaves: a re-read would say 3 for each.
      const results = await d.storeAll();
      for (const [k, result] of results.entries()) await d.announce(result, k + 1);
      await d.succeed();
    });
    assert.deepEqual(summary(updates), [["RUNNING", 0, null], ["RUNNING", 1, 0], ["RUNNING", 2, 1], ["RUNNING", 3, 2], ["SUCCEEDED", 3, null]]);
    assert.ok(updates.every((u) => u.job.startedAt !== null));
  });

  it("should keep the largest count when events of different workers arrive out of order", async () => {
    const updates = await stream({ runningBeforeSubscribe: true }, async (d) => {
      const [r0, r1, r2] = await d.storeAll();
      // Worker B's later write (counts 2, 3) is announced before worker A's (count 1).
      await d.announce(r1!, 2);
      await d.announce(r2!, 3);
      await d.announce(r0!, 1);
      await d.succeed();
    });
    assert.deepEqual(summary(updates), [["RUNNING", 0, null], ["RUNNING", 2, 1], ["RUNNING", 3, 2], ["RUNNING", 3, 0], ["SUCCEEDED", 3, null]]);
  });

  it("should never lower the counts when a worker's RUNNING STATUS arrives after another worker's results", async () => {
    const updates = await stream({ runningBeforeSubscribe: true }, async (d) => {
      const [r0, r1, r2] = await d.storeAll();
      await d.announce(r0!, 1);
      await d.announce(r1!, 2);
      await d.announce(r2!, 3);
      // Worker A wrote only the first result; its STATUS (count 1) leaves after B's results.
      await d.announceRunning(1);
      await d.succeed();
    });
    assert.deepEqual(summary(updates), [["RUNNING", 0, null], ["RUNNING", 1, 0], ["RUNNING", 2, 1], ["RUNNING", 3, 2], ["RUNNING", 3, null], ["SUCCEEDED", 3, null]]);
  });

  it("should read the counts and startedAt from the database once when the job was QUEUED at subscribe time", async () => {
    const updates = await stream({ runningBeforeSubscribe: false }, async (d) => {
      await d.markRunning();
      const results = await d.storeAll();
      for (const [k, result] of results.entries()) await d.announce(result, k + 1);
      await d.succeed();
    });
    // The first result's update re-reads the job (3 stored, startedAt set); the next ones keep the larger count.
    assert.deepEqual(summary(updates), [["QUEUED", 0, null], ["RUNNING", 0, null], ["RUNNING", 3, 0], ["RUNNING", 3, 1], ["RUNNING", 3, 2], ["SUCCEEDED", 3, null]]);
    assert.deepEqual(updates.map((u) => u.job.startedAt !== null), [false, false, true, true, true, true]);
  });
});
