// The serverless event path: job events posted to API Gateway WebSocket connections through the
// management API (postToConnection), against a local stand-in of that endpoint; registry in Postgres.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import { ApiGatewayResultBus, MAX_FRAME_BYTES } from "../../adapters/apigw/apigw-result-bus.ts";
import { subscribeConnection } from "../../adapters/apigw/apigw-job-subscriptions.ts";
import { FanOutResultBus } from "../../adapters/apigw/fan-out-result-bus.ts";
import { MAX_CONNECTION_SECONDS, PrismaWebSocketConnectionRegistry } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import type { SliceResultInput } from "../../core/domain/slice-result.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../adapters/support/migrated-database.ts";
import { createDispatchHarness, TEST_AWS, type DispatchHarness } from "./support/dispatch-harness.ts";
import { startManagementApi, type ManagementApiStandIn } from "./support/management-api-stand-in.ts";

describe("API Gateway WebSocket delivery", () => {
  let h: DispatchHarness;
  let api: ManagementApiStandIn;
  let registry: PrismaWebSocketConnectionRegistry;
  let bus: ApiGatewayResultBus;
  let jobId = "";
  let sliceIds: string[] = [];

  before(async () => {
    h = await createDispatchHarness();
    api = await startManagementApi();
    registry = new PrismaWebSocketConnectionRegistry(h.db.prisma);
    bus = new ApiGatewayResultBus({ endpoint: api.url, ...TEST_AWS, registry, maskUrl: async (r) => `https://masks.example.test/${r.id}` });
    const study = await h.createStudy(3);
    sliceIds = study.sliceIds;
    jobId = (await h.segmentation.requestSegmentation(h.principal, { studyId: study.studyId, method: "COIN", modelKey: "tiny-coin" })).id;
    await h.jobs.markRunning(h.principal.organizationId, jobId);
  });
  beforeEach(() => {
    api.posts.length = 0;
  });
  after(async () => {
    bus?.close();
    await api?.close();
    await h?.close();
  });

  function result(sliceId: string, maskRle: number[] = [10, 2, 100]): SliceResultInput {
    return { jobId, sliceId, width: 8, height: 14, maskRle, bbox: [0, 1, 1, 1], areaPx: 2, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: { infer: 1 } };
  }

  it("should post each event, signed, to every connection of the job and to no other when a worker publishes", async () => {
    const org = h.principal.organizationId;
    await registry.register({ connectionId: "conn-a=", organizationId: org, jobId, afterSlice: -1 });
    await registry.register({ connectionId: "conn-b=", organizationId: org, jobId, afterSlice: -1 });
    await registry.register({ connectionId: "conn-other=", organizationId: org, jobId: h.principal.userId, afterSlice: -1 });
    const saved = await h.jobs.saveResult(org, result(sliceIds[0]!));
    await bus.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: org, jobId, result: saved.result });
    assert.deepEqual(api.posts.map((p) => p.connectionId).sort(), ["conn-a=", "conn-b="]);
    for (const p of api.posts) {
      assert.deepEqual([p.frame.kind, p.frame.result.id, p.frame.result.maskRle], ["SLICE_RESULT", saved.result.id, [10, 2, 100]]);
      assert.match(p.authorization, /^AWS4-HMAC-SHA256 Credential=test\//);
    }
  });

  it("should remove a connection from the registry when postToConnection answers 410 Gone", async () => {
    const org = h.principal.organizationId;
    await registry.register({ connectionId: "conn-gone=", organizationId: org, jobId, afterSlice: -1 });
    api.gone.add("conn-gone=");
    await bus.publish({ schemaVersion: 1, kind: "STATUS", organizationId: org, jobId, status: "RUNNING", completedSlices: 1, failedSlices: 0, totalSlices: 3, errorCode: null });
    const left = (await registry.forJob(org, jobId)).map((c) => c.connectionId).sort();
    assert.ok(!left.includes("conn-gone="));
    assert.deepEqual(left, ["conn-a=", "conn-b="]);
    assert.ok(api.posts.every((p) => p.frame.kind === "STATUS"));
  });

  it("should send the mask as a URL when the frame would exceed 32 KiB", async () => {
    const org = h.principal.organizationId;
    // 20 000 runs: about 60 KB of JSON, far more than one frame holds.
    const big = Array.from({ length: 20_000 }, (_, i) => (i % 2 === 0 ? 100 : 1));
    const saved = await h.jobs.saveResult(org, result(sliceIds[1]!, big));
    await bus.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: org, jobId, result: saved.result });
    assert.equal(api.posts.length, 2);
    for (const p of api.posts) {
      assert.ok(p.bytes <= MAX_FRAME_BYTES);
      assert.equal(p.frame.result.maskRle, undefined);
      assert.equal(p.frame.maskUrl, `https://masks.example.test/${saved.result.id}`);
      assert.equal(p.frame.result.areaPx, 2);
    }
  });

  it("should replay the job's state and the stored results after afterSlice when a connection subscribes", async () => {
    const org = h.principal.organizationId;
    const ok = await subscribeConnection({ registry, jobs: h.jobs, bus }, { connectionId: "conn-late=", organizationId: org, jobId, afterSlice: 0 });
    assert.equal(ok, true);
    const frames = api.posts.filter((p) => p.connectionId === "conn-late=").map((p) => p.frame);
    assert.deepEqual(frames.map((f) => [f.kind, f.result?.sliceIndex ?? f.status]), [["STATUS", "RUNNING"], ["SLICE_RESULT", 1]]);
    assert.ok((await registry.forJob(org, jobId)).some((c) => c.connectionId === "conn-late="));
    assert.equal(await subscribeConnection({ registry, jobs: h.jobs, bus }, { connectionId: "conn-x=", organizationId: h.principal.userId, jobId, afterSlice: -1 }), false);
  });
});

describe("API Gateway WebSocket: a job that has ended, and batches of events", () => {
  let h: DispatchHarness;
  let api: ManagementApiStandIn;

  before(async () => {
    h = await createDispatchHarness();
    api = await startManagementApi();
  });
  after(async () => {
    await api?.close();
    await h?.close();
  });

  it("should post the stored results, then the terminal STATUS last, and register nothing", async () => {
    const org = h.principal.organizationId;
    const registry = new PrismaWebSocketConnectionRegistry(h.db.prisma);
    const bus = new ApiGatewayResultBus({ endpoint: api.url, ...TEST_AWS, registry });
    const study = await h.createStudy(2);
    const jobId = (await h.segmentation.requestSegmentation(h.principal, { studyId: study.studyId, method: "COIN", modelKey: "tiny-coin" })).id;
    await h.jobs.markRunning(org, jobId);
    for (const sliceId of study.sliceIds) {
      await h.jobs.saveResult(org, { jobId, sliceId, width: 8, height: 14, maskRle: [112], bbox: [0, 0, 0, 0], areaPx: 0, pAbnormalBefore: 0.2, pAbnormalAfter: 0.1, flipped: false, timingsMs: {} });
    }
    await h.jobs.finish(org, jobId, "SUCCEEDED");
    // The connection watched another job before: that registration must go too.
    await registry.register({ connectionId: "conn-ended=", organizationId: org, jobId: h.principal.userId, afterSlice: -1 });
    assert.equal(await subscribeConnection({ registry, jobs: h.jobs, bus }, { connectionId: "conn-ended=", organizationId: org, jobId, afterSlice: -1 }), true);
    assert.deepEqual(api.framesTo("conn-ended=").map((f) => [f.kind, f.result?.sliceIndex ?? f.status]), [["SLICE_RESULT", 0], ["SLICE_RESULT", 1], ["STATUS", "SUCCEEDED"]]);
    assert.equal(await h.db.prisma.webSocketConnection.count({ where: { connectionId: "conn-ended=" } }), 0);
    bus.close();
  });

  it("should look the registry up once per job in a batch and post its events in order, through the fan-out bus too", async () => {
    const org = h.principal.organizationId;
    const lookups: string[] = [];
    class CountingRegistry extends PrismaWebSocketConnectionRegistry {
      override forJob(organizationId: string, jobId: string, now?: Date) {
        lookups.push(jobId);
        return super.forJob(organizationId, jobId, now);
      }
    }
    const registry = new CountingRegistry(h.db.prisma);
    const bus = new ApiGatewayResultBus({ endpoint: api.url, ...TEST_AWS, registry });
    const published: string[] = [];
    const fanOut = new FanOutResultBus([{ publish: async (e) => void published.push(e.kind), subscribe: () => () => {} }, bus]);
    const study = await h.createStudy(3);
    const jobA = (await h.segmentation.requestSegmentation(h.principal, { studyId: study.studyId, method: "COIN", modelKey: "tiny-coin" })).id;
    const jobB = (await h.segmentation.requestSegmentation(h.principal, { studyId: study.studyId, method: "COIN", modelKey: "tiny-coin" })).id;
    await registry.register({ connectionId: "batch-a=", organizationId: org, jobId: jobA, afterSlice: -1 });
    await registry.register({ connectionId: "batch-b=", organizationId: org, jobId: jobB, afterSlice: -1 });
    const status = (jobId: string, completedSlices: number) => ({ schemaVersion: 1, kind: "STATUS", organizationId: org, jobId, status: "RUNNING", completedSlices, failedSlices: 0, totalSlices: 3, errorCode: null }) as const;
    await fanOut.publishMany([status(jobA, 1), status(jobA, 2), status(jobA, 3), status(jobB, 1)]);
    assert.deepEqual(lookups, [jobA, jobB]);
    assert.deepEqual(api.framesTo("batch-a=").map((f) => f.completedSlices), [1, 2, 3]);
    assert.deepEqual(api.framesTo("batch-b=").map((f) => f.completedSlices), [1]);
    assert.deepEqual(published, ["STATUS", "STATUS", "STATUS", "STATUS"]);
    bus.close();
  });
});

describe("WebSocket connection registry: expiry", () => {
  let db: MigratedDatabase;
  let registry: PrismaWebSocketConnectionRegistry;
  const organizationId = "0b6f2a8e-3a57-4c4e-9d3a-5b1f0c2d4e6f";
  const jobA = "6a1d9c7e-2f4b-4e8a-b3c5-d7e9f1a2b4c6";
  const jobB = "9e8d7c6b-5a4f-4e3d-8c2b-1a0f9e8d7c6b";
  /** A fixed "now" the test moves by hand: registrations and the sweep take the time as an argument. */
  const t0 = new Date("2026-11-26T10:00:00.000Z");
  const at = (seconds: number) => new Date(t0.getTime() + seconds * 1000);
  const ids = async () => (await db.prisma.webSocketConnection.findMany({ orderBy: { connectionId: "asc" } })).map((c) => c.connectionId);

  before(async () => {
    db = await createMigratedDatabase();
    registry = new PrismaWebSocketConnectionRegistry(db.prisma);
  });
  beforeEach(async () => {
    await db.truncate();
  });
  after(async () => {
    await db?.close();
  });

  it("should delete registrations when they are older than API Gateway's 2 h connection limit, and keep younger ones", async () => {
    await registry.register({ connectionId: "old=", organizationId, jobId: jobA, afterSlice: -1 }, at(0));
    await registry.register({ connectionId: "at-limit=", organizationId, jobId: jobA, afterSlice: -1 }, at(60));
    await registry.register({ connectionId: "young=", organizationId, jobId: jobB, afterSlice: 3 }, at(3_600));
    assert.equal(await registry.removeExpired(at(MAX_CONNECTION_SECONDS + 60)), 2);
    assert.deepEqual(await ids(), ["young="]);
    assert.equal(await registry.removeExpired(at(MAX_CONNECTION_SECONDS + 60)), 0, "a second sweep finds nothing");
    assert.deepEqual((await registry.forJob(organizationId, jobB, at(MAX_CONNECTION_SECONDS + 60))).map((c) => c.connectionId), ["young="]);
  });

  it("should keep a connection's first expiry when it is re-pointed to another job, so the sweep still removes it after 2 h", async () => {
    await registry.register({ connectionId: "moved=", organizationId, jobId: jobA, afterSlice: -1 }, at(0));
    const moved = await registry.register({ connectionId: "moved=", organizationId, jobId: jobB, afterSlice: 5 }, at(3_600));
    assert.deepEqual([moved.jobId, moved.afterSlice, moved.expiresAt.toISOString()], [jobB, 5, at(MAX_CONNECTION_SECONDS).toISOString()]);
    assert.equal(await registry.removeExpired(at(MAX_CONNECTION_SECONDS - 1)), 0);
    assert.equal(await registry.removeExpired(at(MAX_CONNECTION_SECONDS)), 1);
    assert.deepEqual(await ids(), []);
  });
});
