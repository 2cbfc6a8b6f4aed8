import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import WebSocket from "ws";
import { createClient, type Client } from "graphql-ws";
import { startApiHarness, type ApiHarness } from "./support/api-harness.ts";
import { studyWithSlice } from "./support/study-flow.ts";

const SUB = "subscription($j: ID!) { segmentationJobUpdated(jobId: $j) { job { status } } }";

describe("subscriptions over graphql-ws", () => {
  let api: ApiHarness;
  let jobId: string;
  const clients: Client[] = [];
  before(async () => {
    api = await startApiHarness();
    const { studyId } = await studyWithSlice(api, api.seed.adminA.key);
    const res = await api.gql(api.seed.adminA.key, "mutation($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN }) { job { id } } }", { s: studyId });
    jobId = res.body.data!.requestSegmentation.job.id;
  });
  after(async () => {
    for (const c of clients) await c.dispose();
    await api.close();
  });

  function client(connectionParams: Record<string, string>): Client {
    const c = createClient({ url: api.server.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams, retryAttempts: 0, lazy: true });
    clients.push(c);
    return c;
  }

  /** Collects the first event's error codes, or the close code when the socket is closed. */
  async function firstOutcome(c: Client, cancelAfterFirst = true): Promise<{ codes: string[]; statuses: string[]; closeCode?: number }> {
    const codes: string[] = [];
    const statuses: string[] = [];
    try {
      const it = c.iterate<{ segmentationJobUpdated: { job: { status: string } } }>({ query: SUB, variables: { j: jobId } });
      for await (const next of it) {
        codes.push(...(next.errors ?? []).map((e) => String(e.extensions?.code)));
        if (next.data) statuses.push(next.data.segmentationJobUpdated.job.status);
        if (cancelAfterFirst) break;
      }
    } catch (error) {
      if (Array.isArray(error)) codes.push(...error.map((e: { extensions?: { code?: string } }) => String(e.extensions?.code)));
      else if (typeof (error as { code?: number }).code === "number") return { codes, statuses, closeCode: (error as { code: number }).code };
      else throw error;
    }
    return { codes, statuses };
  }

  it("should stream the job's state to its own organisation when subscribed with an API key", async () => {
    assert.deepEqual(await firstOutcome(client({ apiKey: api.seed.viewerA.key })), { codes: [], statuses: ["QUEUED"] });
  });

  it("should answer NOT_FOUND when another organisation subscribes to the job", async () => {
    assert.deepEqual(await firstOutcome(client({ apiKey: api.seed.adminB.key })), { codes: ["NOT_FOUND"], statuses: [] });
  });

  it("should answer UNAUTHENTICATED when the connection carries no credentials", async () => {
    assert.deepEqual(await firstOutcome(client({})), { codes: ["UNAUTHENTICATED"], statuses: [] });
  });

  it("should close the connection with 4403 when the credentials are invalid", async () => {
    const outcome = await firstOutcome(client({ apiKey: "cs_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA" }));
    assert.equal(outcome.closeCode, 4403);
  });

  it("should accept a bearer JWT in the connection params", async () => {
    const token = await api.tokens.sign(api.seed.viewerA.userId, api.seed.orgA);
    assert.deepEqual(await firstOutcome(client({ authorization: `Bearer ${token}` })), { codes: [], statuses: ["QUEUED"] });
  });

  it("should read the job's results afresh in every event when a subscription selects job.results", async () => {
    const { studyId, sliceId } = await studyWithSlice(api, api.seed.adminA.key);
    const res = await api.gql(api.seed.adminA.key, "mutation($s: ID!) { requestSegmentation(input: { studyId: $s, method: COIN }) { job { id } } }", { s: studyId });
    const job = res.body.data!.requestSegmentation.job.id as string;
    await api.services.jobs.markRunning(api.seed.orgA, job);
    type Event = { segmentationJobUpdated: { job: { results: { sliceIndex: number }[] }; result: { sliceIndex: number } | null } };
    const events: Event["segmentationJobUpdated"][] = [];
    const it = client({ apiKey: api.seed.viewerA.key }).iterate<Event>({
      query: "subscription($j: ID!) { segmentationJobUpdated(jobId: $j) { job { results { sliceIndex } } result { sliceIndex } } }",
      variables: { j: job },
    });
    for await (const next of it) {
      assert.equal(next.errors, undefined, JSON.stringify(next.errors));
      events.push(next.data!.segmentationJobUpdated);
      if (events.length === 2) break;
      // The first event is the snapshot: the subscription is listening, so the result can be stored and announced.
      const { result } = await api.services.jobs.saveResult(api.seed.orgA, {
        jobId: job, sliceId, width: 8, height: 6, maskRle: [48], bbox: [], areaPx: 0, pAbnormalBefore: 0.9, pAbnormalAfter: 0.2, flipped: true, timingsMs: {},
      });
      await api.bus.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: api.seed.orgA, jobId: job, result });
    }
    assert.deepEqual(events, [
      { job: { results: [] }, result: null },
      { job: { results: [{ sliceIndex: 0 }] }, result: { sliceIndex: 0 } },
    ]);
  });
});
