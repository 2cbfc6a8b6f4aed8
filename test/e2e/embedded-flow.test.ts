// End to end on embedded mode: PGlite, in-process queue, local store, HTTP + WebSocket on one port.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import WebSocket from "ws";
import { createClient, type Client } from "graphql-ws";
import { startEmbedded, type EmbeddedInstance } from "../../app/start-embedded.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import type { SegmentationTaskHandler } from "../../core/ports/segmentation-task-handler.port.ts";
import { encodeRle } from "../../core/domain/rle.ts";
import { greyPng } from "../api/support/png-fixture.ts";

/** A stand-in worker: marks the job running, writes one mask per slice, then finishes it. */
function fakeWorker(deps: Parameters<Parameters<typeof startEmbedded>[2] & Function>[0], gate: Promise<void>): SegmentationTaskHandler {
  return {
    async handle(task) {
      await gate;
      const running = await deps.sink.markRunning(task.organizationId, task.jobId);
      if (!running) return;
      await deps.bus.publish(statusEvent(running));
      for (const sliceId of task.sliceIds) {
        const mask = new Uint8Array(8 * 6);
        mask[13] = 1;
        const { result, created } = await deps.sink.saveResult(task.organizationId, {
          jobId: task.jobId, sliceId, width: 8, height: 6, maskRle: encodeRle(mask), bbox: [5, 1, 5, 1], areaPx: 1,
          pAbnormalBefore: 0.93, pAbnormalAfter: 0.04, flipped: true, timingsMs: { infer: 1.5 },
        });
        if (created) await deps.bus.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: task.organizationId, jobId: task.jobId, result });
      }
      const done = await deps.sink.finish(task.organizationId, task.jobId, "SUCCEEDED");
      if (done) await deps.bus.publish(statusEvent(done));
    },
  };
}

describe("embedded mode end to end", () => {
  let instance: EmbeddedInstance;
  let dir: string;
  let ws: Client;
  let release!: () => void;
  const gate = new Promise<void>((r) => (release = r));

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-e2e-"));
    instance = await startEmbedded(
      {
        modelsDir: path.join(dir, "no-models"), pgliteDataDir: "memory://", localStoreDir: dir, host: "127.0.0.1", port: 0, jwt: { secret: "e".repeat(40), issuer: "coinseg", audience: "coinseg-api" },
        introspection: true, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60,
      },
      pino({ level: process.env.E2E_LOG ?? "silent" }),
      (deps) => fakeWorker(deps, gate),
    );
    await instance.services.models.register({ key: "e2e-coin", kind: "COIN_GENERATOR", version: "1", sha256: "a".repeat(64), spec: {} });
    ws = createClient({ url: instance.server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: instance.bootstrap.apiKey }, retryAttempts: 0 });
  });
  after(async () => {
    await ws?.dispose();
    await instance?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  async function gql(query: string, variables?: Record<string, unknown>): Promise<Record<string, any>> {
    const res = await fetch(instance.server.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": instance.bootstrap.apiKey },
      body: JSON.stringify({ query, variables }),
    });
    const body = (await res.json()) as { data: Record<string, any>; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    return body.data;
  }

  let studyId = "";
  let sliceId = "";
  let jobId = "";

  it("should create a study, upload and import a slice, label it and read it back over HTTP", async () => {
    studyId = (await gql('mutation { createStudy(input: { title: "e2e" }) { study { id status } } }')).createStudy.study.id;
    const png = greyPng(8, 6);
    const ticket = (await gql("mutation($n: Int!) { requestUpload(input: { format: PNG, contentType: \"image/png\", sizeBytes: $n }) { uploadKey url method headers } }", { n: png.length })).requestUpload;
    assert.ok(ticket.url.startsWith(`${instance.server.baseUrl}/uploads/`));
    const put = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: Buffer.from(png) });
    assert.equal(put.status, 200);
    await gql("mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id } } }", { i: { studyId, uploadKeys: [ticket.uploadKey], format: "PNG" } });
    const study = (await gql("query($id: ID!) { study(id: $id) { status slices { edges { node { id sliceIndex } } } } }", { id: studyId })).study;
    sliceId = study.slices.edges[0].node.id;
    await gql("mutation($i: SetLabelsInput!) { setLabels(input: $i) { labels { value } } }", { i: { studyId, labels: [{ sliceId, value: "ABNORMAL" }, { value: "ABNORMAL" }] } });
    const read = (await gql("query($id: ID!) { study(id: $id) { title status studyLabel slices { totalCount edges { node { sliceIndex width height label } } } } }", { id: studyId })).study;
    assert.deepEqual(read, { title: "e2e", status: "READY", studyLabel: "ABNORMAL", slices: { totalCount: 1, edges: [{ node: { sliceIndex: 0, width: 8, height: 6, label: "ABNORMAL" } }] } });
  });

  it("should stream the job's state, each slice result and the final status over a subscription when segmentation runs", async () => {
    jobId = (await gql("mutation($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN }) { job { id status } } }", { s: studyId })).requestSegmentation.job.id;
    const events: string[] = [];
    const sub = ws.iterate<{ segmentationJobUpdated: { job: { status: string; completedSlices: number }; result: { sliceIndex: number; areaPx: number; flipped: boolean } | null } }>({
      query: "subscription($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status completedSlices } result { sliceIndex areaPx flipped } } }",
      variables: { j: jobId },
    });
    for await (const next of sub) {
      assert.equal(next.errors, undefined, JSON.stringify(next.errors));
      const u = next.data!.segmentationJobUpdated;
      events.push(`${u.job.status}:${u.job.completedSlices}:${u.result ? `slice${u.result.sliceIndex}/area${u.result.areaPx}/${u.result.flipped}` : "-"}`);
      if (events.length === 1) release(); // the worker starts only once the subscription is live
    }
    assert.deepEqual(events, ["QUEUED:0:-", "RUNNING:0:-", "RUNNING:1:slice0/area1/true", "SUCCEEDED:1:-"]);
  });

  it("should leave the job SUCCEEDED with exactly one stored result when it is over", async () => {
    const prisma = instance.services.jobs as unknown as { db: import("../../adapters/prisma/prisma-client.ts").Db };
    const job = await prisma.db.segmentationJob.findUniqueOrThrow({ where: { id: jobId } });
    assert.equal(job.status, "SUCCEEDED");
    assert.equal(job.completedSlices, 1);
    assert.ok(job.startedAt && job.finishedAt);
    const results = await prisma.db.sliceResult.findMany({ where: { jobId } });
    assert.deepEqual(results.map((r) => [r.sliceId, r.maskRle, r.areaPx]), [[sliceId, [13, 1, 34], 1]]);
    assert.equal(await prisma.db.outboxMessage.count({ where: { dispatchedAt: null } }), 0);
  });

  it("should replay the stored results when a client resubscribes after the job finished", async () => {
    const events: string[] = [];
    for await (const next of ws.iterate<{ segmentationJobUpdated: { job: { status: string }; result: { sliceIndex: number } | null } }>({
      query: "subscription($j: ID!) { segmentationJobUpdated(jobId: $j, afterSlice: -1) { job { status } result { sliceIndex } } }",
      variables: { j: jobId },
    })) {
      const u = next.data!.segmentationJobUpdated;
      events.push(`${u.job.status}:${u.result?.sliceIndex ?? "-"}`);
    }
    assert.deepEqual(events, ["SUCCEEDED:-", "SUCCEEDED:0"]);
  });

  it("should end the subscription with NOT_FOUND when the job id is unknown", async () => {
    const errors: unknown[] = [];
    try {
      for await (const next of ws.iterate({ query: "subscription { segmentationJobUpdated(jobId: \"00000000-0000-4000-8000-000000000000\") { job { status } } }" })) {
        errors.push(...(next.errors ?? []));
      }
    } catch (error) {
      errors.push(...(Array.isArray(error) ? error : [error]));
    }
    assert.deepEqual(errors.map((e) => (e as { extensions?: { code?: string } }).extensions?.code), ["NOT_FOUND"]);
  });
});
