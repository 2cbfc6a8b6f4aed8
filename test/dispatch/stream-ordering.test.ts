// Subscriptions stay gap-free when events from different publishers arrive out of order: a terminal
// STATUS from one worker can overtake another worker's last SLICE_RESULT (PROTOCOL.md §6).
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient } from "graphql-ws";
import { encodeRle } from "../../core/domain/rle.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import { startApiHarness, type ApiHarness } from "../api/support/api-harness.ts";
import { studyWithSlice } from "../api/support/study-flow.ts";

describe("subscription ordering across publishers", () => {
  let api: ApiHarness;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));

  before(async () => {
    api = await startApiHarness({
      // A worker whose SLICE_RESULT event is "still in flight": it stores the result, never publishes
      // it, and publishes the terminal STATUS (as a second worker finishing the job would).
      handler: (services, bus) => ({
        async handle(task) {
          await gate;
          const running = await services.jobs.markRunning(task.organizationId, task.jobId);
          if (!running) return;
          await bus.publish(statusEvent(running));
          for (const sliceId of task.sliceIds) {
            await services.jobs.saveResult(task.organizationId, {
              jobId: task.jobId, sliceId, width: 2, height: 2, maskRle: encodeRle([0, 1, 0, 0]), bbox: [1, 0, 1, 0], areaPx: 1,
              pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {},
            });
          }
          const done = await services.jobs.finish(task.organizationId, task.jobId, "SUCCEEDED");
          if (done) await bus.publish(statusEvent(done));
        },
      }),
    });
  });
  after(async () => {
    await api?.close();
  });

  it("should deliver a stored result whose event never arrived before SUCCEEDED when the terminal STATUS overtakes it", async () => {
    const key = api.seed.annotatorA.key;
    const { studyId, sliceId } = await studyWithSlice(api, key);
    const res = await api.gql(key, `mutation ($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN, modelKey: "test-coin" }) { job { id } } }`, { s: studyId });
    const jobId = res.body.data!.requestSegmentation.job.id as string;
    const ws = createClient({ url: api.server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: key }, retryAttempts: 0 });
    try {
      const seen: string[] = [];
      let first = true;
      for await (const msg of ws.iterate<{ segmentationJobUpdated: { job: { status: string }; result: { sliceId: string } | null } }>({
        query: `subscription ($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status } result { sliceId } } }`, variables: { j: jobId },
      })) {
        const u = msg.data!.segmentationJobUpdated;
        seen.push(`${u.job.status}:${u.result?.sliceId ?? "-"}`);
        if (first) {
          first = false;
          release(); // the worker starts only once the subscription is live
        }
      }
      assert.deepEqual(seen, ["QUEUED:-", "RUNNING:-", `RUNNING:${sliceId}`, "SUCCEEDED:-"]);
    } finally {
      await ws.dispose();
    }
  });
});
