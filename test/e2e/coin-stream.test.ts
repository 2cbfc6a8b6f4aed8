// End to end in services mode: two API instances and a worker on PostgreSQL + moto's SQS. Clients
// subscribe over graphql-ws, request COIN on a 40-slice phantom study and receive each slice's result
// as it is stored (PROTOCOL.md §6): exactly once, resumable with afterSlice, on either API instance.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { pino } from "pino";
import WebSocket from "ws";
import { createClient, type Client } from "graphql-ws";
import { JoseTokenVerifier } from "../../adapters/auth/jose-token-verifier.ts";
import { PgNotifyResultBus } from "../../adapters/events/pg-notify-result-bus.ts";
import { buildGraphQLSchema } from "../../app/api/graphql-schema.ts";
import { startHttpServer, type RunningHttpServer } from "../../app/api/http-server.ts";
import { wireServices, type WiredServices } from "../../app/api/wire-services.ts";
import { createDispatchHarness, type DispatchHarness } from "../dispatch/support/dispatch-harness.ts";

const SLICES = 40;
const SUBSCRIPTION = `subscription ($jobId: ID!, $afterSlice: Int) {
  segmentationJobUpdated(jobId: $jobId, afterSlice: $afterSlice) {
    job { id status completedSlices totalSlices }
    result { id sliceId sliceIndex areaPx maskRle flipped pAbnormalBefore pAbnormalAfter }
  }
}`;

interface Update {
  job: { id: string; status: string; completedSlices: number; totalSlices: number };
  result: { id: string; sliceId: string; sliceIndex: number; areaPx: number; maskRle: number[]; flipped: boolean; pAbnormalBefore: number; pAbnormalAfter: number } | null;
}

interface ApiInstance {
  server: RunningHttpServer;
  services: WiredServices;
  bus: PgNotifyResultBus;
  close(): Promise<void>;
}

async function startApi(h: DispatchHarness): Promise<ApiInstance> {
  const logger = pino({ level: "silent" });
  const jobs = h.jobs;
  const bus = new PgNotifyResultBus(h.db.url, async (org, jobId, sliceId) => (await jobs.resultsBySlice(org, [sliceId])).get(sliceId)?.find((r) => r.jobId === jobId) ?? null);
  await bus.start();
  const tokens = new JoseTokenVerifier({ secret: "e2e-secret-e2e-secret-e2e-secret-0123", issuer: "coinseg", audience: "coinseg-api" });
  const services = wireServices({ prisma: h.db.prisma, store: h.store, bus, tokens, logger, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60 });
  const server = await startHttpServer({ schema: buildGraphQLSchema(), services, logger, host: "127.0.0.1", port: 0, introspection: true, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 1 << 20 });
  return { server, services, bus, async close() { await server.close(); await bus.close(); } };
}

describe("COIN results streamed live in services mode", () => {
  let h: DispatchHarness;
  let apis: ApiInstance[] = [];
  let key = "";
  const clients: Client[] = [];

  before(async () => {
    h = await createDispatchHarness({ visibilityTimeoutSeconds: 10 });
    apis = [await startApi(h), await startApi(h)];
    key = (await apis[0]!.services.auth.issueApiKey(h.principal.organizationId, h.principal.userId, "e2e")).key;
  });
  after(async () => {
    for (const c of clients) await c.dispose();
    await h?.stopWorkers();
    for (const a of apis) await a.close();
    await h?.close();
  });

  function client(api: ApiInstance): Client {
    const c = createClient({ url: api.server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: key }, retryAttempts: 0, lazy: true });
    clients.push(c);
    return c;
  }

  /** Subscribes; resolves with every update when the stream completes, or stops early when `stopAfter` says so. */
  function watch(c: Client, jobId: string, afterSlice: number, stopAfter?: (updates: Update[]) => boolean): Promise<Update[]> {
    return new Promise((resolve, reject) => {
      const updates: Update[] = [];
      const unsubscribe = c.subscribe<{ segmentationJobUpdated: Update }>({ query: SUBSCRIPTION, variables: { jobId, afterSlice } }, {
        next: (msg) => {
          if (msg.errors) return reject(new Error(JSON.stringify(msg.errors)));
          updates.push(msg.data!.segmentationJobUpdated);
          if (stopAfter?.(updates)) {
            unsubscribe();
            resolve(updates);
          }
        },
        error: (err) => reject(err instanceof Error ? err : new Error(JSON.stringify(err))),
        complete: () => resolve(updates),
      });
    });
  }

  async function requestCoin(studyId: string): Promise<string> {
    const res = await fetch(apis[0]!.server.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": key },
      body: JSON.stringify({ query: `mutation ($studyId: ID!) { requestSegmentation(input: { studyId: $studyId, method: COIN, modelKey: "tiny-coin" }) { job { id status totalSlices } } }`, variables: { studyId } }),
    });
    const body = (await res.json()) as { data: { requestSegmentation: { job: { id: string; totalSlices: number } } }; errors?: unknown };
    assert.equal(body.errors, undefined, JSON.stringify(body.errors));
    assert.equal(body.data.requestSegmentation.job.totalSlices, SLICES);
    return body.data.requestSegmentation.job.id;
  }

  it("should deliver exactly one SLICE_RESULT per slice then SUCCEEDED to subscribers of both API instances, matching the stored results", async () => {
    const { studyId } = await h.createPhantomStudy(SLICES);
    // The job exists before the worker starts, so both subscriptions see it from its first event.
    const jobId = await requestCoin(studyId);
    const streams = [watch(client(apis[0]!), jobId, -1), watch(client(apis[1]!), jobId, -1)];
    await h.startWorker({ batchSize: 8 });
    const [a, b] = await Promise.all(streams);
    const rows = await h.db.prisma.sliceResult.findMany({ where: { jobId }, orderBy: { sliceIndex: "asc" } });
    assert.equal(rows.length, SLICES);
    for (const updates of [a!, b!]) {
      assert.equal(updates[0]!.result, null, "the first update is the job's state");
      const results = updates.flatMap((u) => (u.result ? [u.result] : []));
      assert.deepEqual(results.map((r) => r.sliceIndex).sort((x, y) => x - y), Array.from({ length: SLICES }, (_, i) => i));
      assert.equal(new Set(results.map((r) => r.sliceId)).size, SLICES);
      const last = updates.at(-1)!;
      assert.deepEqual([last.job.status, last.job.completedSlices, last.result], ["SUCCEEDED", SLICES, null]);
      // Every event equals the stored row.
      const byId = new Map(rows.map((r) => [r.id, r]));
      for (const r of results) {
        const row = byId.get(r.id)!;
        assert.deepEqual([r.sliceId, r.sliceIndex, r.areaPx, r.maskRle, r.flipped], [row.sliceId, row.sliceIndex, row.areaPx, row.maskRle, row.flipped]);
      }
    }
  });

  it("should resume after a reconnect with afterSlice and deliver the missed results from the database then live, with no gaps or duplicates", async () => {
    await h.stopWorkers();
    const { studyId } = await h.createPhantomStudy(SLICES);
    const jobId = await requestCoin(studyId);
    const first = watch(client(apis[1]!), jobId, -1, (u) => u.some((x) => x.result !== null));
    await h.startWorker({ batchSize: 4 });
    const before = await first;
    const seen = before.flatMap((u) => (u.result ? [u.result] : []));
    // Tasks of one job may finish in any order (SQS standard queue, several workers): the cursor is the
    // highest slice index up to which nothing is missing (PROTOCOL.md §6); the client drops repeats by id.
    const have = new Set(seen.map((r) => r.sliceIndex));
    let afterSlice = -1;
    while (have.has(afterSlice + 1)) afterSlice++;
    // Reconnect on the other instance.
    const resumed = await watch(client(apis[0]!), jobId, afterSlice);
    const rest = resumed.flatMap((u) => (u.result ? [u.result] : []));
    assert.ok(rest.every((r) => r.sliceIndex > afterSlice));
    assert.equal(new Set(rest.map((r) => r.id)).size, rest.length, "the resumed stream repeats nothing");
    const all = new Map([...seen, ...rest].map((r) => [r.id, r]));
    assert.deepEqual([...all.values()].map((r) => r.sliceIndex).sort((x, y) => x - y), Array.from({ length: SLICES }, (_, i) => i));
    assert.equal(resumed.at(-1)!.job.status, "SUCCEEDED");
  });
});
