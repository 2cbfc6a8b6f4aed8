// The WebSocket API's Lambda (app/lambda-websocket.ts) invoked with API Gateway WebSocket events:
// registry and replay in real Postgres, frames posted to a local stand-in of the management API.
import { after, before, beforeEach, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { APIGatewayProxyWebsocketEventV2 } from "aws-lambda";
import { ApiGatewayResultBus } from "../../adapters/apigw/apigw-result-bus.ts";
import { MAX_CONNECTION_SECONDS, PrismaWebSocketConnectionRegistry } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import { JoseTokenVerifier } from "../../adapters/auth/jose-token-verifier.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { createWebSocketHandler } from "../../app/lambda/create-websocket-handler.ts";
import { REGISTRY_CLEANUP_EVENT } from "../../app/lambda/registry-cleanup-event.ts";
import { ConfigError } from "../../app/config/parse-config.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { createDispatchHarness, TEST_AWS, type DispatchHarness } from "./support/dispatch-harness.ts";
import { startManagementApi, type ManagementApiStandIn } from "./support/management-api-stand-in.ts";

const JWT_SECRET = "w".repeat(40);

/** An API Gateway WebSocket proxy event for `routeKey` on `connectionId`. */
function wsEvent(routeKey: string, connectionId: string, body?: unknown): APIGatewayProxyWebsocketEventV2 {
  const eventType = routeKey === "$connect" ? "CONNECT" : routeKey === "$disconnect" ? "DISCONNECT" : "MESSAGE";
  return {
    requestContext: {
      routeKey, eventType, connectionId, messageId: "m", extendedRequestId: "x", requestTime: "26/Nov/2026:00:00:00 +0000", messageDirection: "IN",
      stage: "test", connectedAt: 0, requestTimeEpoch: 0, requestId: `req-${connectionId}`, domainName: "ws.example.test", apiId: "ws",
    },
    isBase64Encoded: false,
    ...(body === undefined ? {} : { body: typeof body === "string" ? body : JSON.stringify(body) }),
  };
}

describe("WebSocket Lambda ($connect, $default, $disconnect)", () => {
  let h: DispatchHarness;
  let api: ManagementApiStandIn;
  let handler: ReturnType<typeof createWebSocketHandler>;
  let registry: PrismaWebSocketConnectionRegistry;
  let apiKey = "";
  let viewerKey = "";
  let otherOrgKey = "";
  let jobId = "";
  let sliceIds: string[] = [];
  const org = () => h.principal.organizationId;
  const registered = async (connectionId: string) => h.db.prisma.webSocketConnection.findUnique({ where: { connectionId } });

  before(async () => {
    h = await createDispatchHarness();
    api = await startManagementApi();
    registry = new PrismaWebSocketConnectionRegistry(h.db.prisma);
    const identities = new PrismaIdentityRepository(h.db.prisma);
    const auth = new AuthService(identities, { verify: async () => null });
    apiKey = (await auth.issueApiKey(org(), h.principal.userId, "ws")).key;
    const viewer = await identities.upsertMember({ organizationId: org(), email: "viewer@example.test", name: "Viewer", role: "VIEWER" });
    viewerKey = (await auth.issueApiKey(org(), viewer.userId, "viewer")).key;
    const other = await identities.createOrganization({ slug: "other-ws", name: "Other" });
    const stranger = await identities.upsertMember({ organizationId: other.id, email: "s@example.test", name: "S", role: "ADMIN" });
    otherOrgKey = (await auth.issueApiKey(other.id, stranger.userId, "other")).key;
    const study = await h.createStudy(3);
    sliceIds = study.sliceIds;
    jobId = (await h.segmentation.requestSegmentation(h.principal, { studyId: study.studyId, method: "COIN", modelKey: "tiny-coin" })).id;
    await h.jobs.markRunning(org(), jobId);
    for (const sliceId of sliceIds.slice(0, 2)) {
      await h.jobs.saveResult(org(), { jobId, sliceId, width: 8, height: 14, maskRle: [10, 2, 100], bbox: [0, 1, 1, 1], areaPx: 2, pAbnormalBefore: 0.9, pAbnormalAfter: 0.1, flipped: true, timingsMs: {} });
    }
    handler = createWebSocketHandler({
      DATABASE_URL: h.db.url, JWT_SECRET, LOG_LEVEL: "silent", APIGW_MANAGEMENT_ENDPOINT: api.url,
      AWS_REGION: TEST_AWS.region, AWS_ACCESS_KEY_ID: TEST_AWS.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_AWS.credentials.secretAccessKey,
    });
  });
  beforeEach(() => {
    api.posts.length = 0;
  });
  after(async () => {
    await handler?.dispose();
    await api?.close();
    await h?.close();
  });

  it("should accept a connection on $connect without registering or posting anything", async () => {
    assert.deepEqual(await handler(wsEvent("$connect", "c-connect=")), { statusCode: 200 });
    assert.equal(await registered("c-connect="), null);
    assert.equal(api.posts.length, 0);
  });

  it("should register the connection and replay the job's STATUS and the results after afterSlice when subscribing with an API key", async () => {
    const res = await handler(wsEvent("$default", "c-sub=", { action: "subscribe", jobId, afterSlice: 0, apiKey }));
    assert.deepEqual(res, { statusCode: 200 });
    const frames = api.framesTo("c-sub=");
    assert.deepEqual(frames.map((f) => [f.kind, f.result?.sliceIndex ?? f.status]), [["STATUS", "RUNNING"], ["SLICE_RESULT", 1]]);
    assert.deepEqual([frames[0]!.completedSlices, frames[0]!.totalSlices], [2, 3]);
    assert.match(api.posts[0]!.authorization, /^AWS4-HMAC-SHA256 Credential=test\//);
    const row = await registered("c-sub=");
    assert.deepEqual([row?.organizationId, row?.jobId, row?.afterSlice], [org(), jobId, 0]);
  });

  it("should deliver a worker's later events to a connection subscribed through the handler", async () => {
    await handler(wsEvent("$default", "c-live=", { action: "subscribe", jobId, afterSlice: 1, authorization: `Bearer ${await token()}` }));
    api.posts.length = 0;
    // The worker side: its own bus on the same registry (app/worker/start-worker.ts with APIGW_MANAGEMENT_ENDPOINT).
    const workerBus = new ApiGatewayResultBus({ endpoint: api.url, ...TEST_AWS, registry });
    const saved = await h.jobs.saveResult(org(), { jobId, sliceId: sliceIds[2]!, width: 8, height: 14, maskRle: [112], bbox: [0, 0, 0, 0], areaPx: 0, pAbnormalBefore: 0.2, pAbnormalAfter: 0.2, flipped: false, timingsMs: {} });
    await workerBus.publish({ schemaVersion: 1, kind: "SLICE_RESULT", organizationId: org(), jobId, result: saved.result });
    workerBus.close();
    assert.deepEqual(api.framesTo("c-live=").map((f) => [f.kind, f.result?.id]), [["SLICE_RESULT", saved.result.id]]);
  });

  it("should answer UNAUTHENTICATED and register nothing when a subscribe carries no credentials or a bad key", async () => {
    for (const [connectionId, credentials] of [["c-anon=", {}], ["c-bad=", { apiKey: "cs_deadbeef_" + "x".repeat(43) }], ["c-jwt=", { authorization: "Bearer not.a.jwt" }]] as const) {
      assert.deepEqual(await handler(wsEvent("$default", connectionId, { action: "subscribe", jobId, ...credentials })), { statusCode: 401 });
      assert.deepEqual(api.framesTo(connectionId).map((f) => [f.kind, f.code]), [["ERROR", "UNAUTHENTICATED"]]);
      assert.equal(await registered(connectionId), null);
    }
  });

  it("should answer NOT_FOUND when the job belongs to another organisation, does not exist, or is not a UUID", async () => {
    const cases: [string, Record<string, unknown>][] = [
      ["c-other=", { jobId, apiKey: otherOrgKey }],
      ["c-unknown=", { jobId: h.principal.userId, apiKey }],
      ["c-garbage=", { jobId: "not-a-uuid", apiKey }],
    ];
    for (const [connectionId, fields] of cases) {
      assert.deepEqual(await handler(wsEvent("$default", connectionId, { action: "subscribe", ...fields })), { statusCode: 404 });
      assert.deepEqual(api.framesTo(connectionId).map((f) => [f.kind, f.code, f.message]), [["ERROR", "NOT_FOUND", "segmentation job not found"]]);
      assert.equal(await registered(connectionId), null);
    }
  });

  it("should let a VIEWER subscribe (reading a job needs no more)", async () => {
    assert.deepEqual(await handler(wsEvent("$default", "c-viewer=", { action: "subscribe", jobId, apiKey: viewerKey })), { statusCode: 200 });
    assert.equal((await registered("c-viewer="))?.jobId, jobId);
  });

  it("should answer BAD_REQUEST naming the problem when the message is not JSON, has an unknown action or a bad field", async () => {
    const cases: [string, unknown, RegExp][] = [
      ["c-json=", "{not json", /^the message is not JSON$/],
      ["c-action=", { action: "publish", jobId }, /^action: /],
      ["c-after=", { action: "subscribe", jobId, afterSlice: -2, apiKey }, /^afterSlice: /],
    ];
    for (const [connectionId, body, message] of cases) {
      assert.deepEqual(await handler(wsEvent("$default", connectionId, body)), { statusCode: 400 });
      const frames = api.framesTo(connectionId);
      assert.deepEqual(frames.map((f) => [f.schemaVersion, f.kind, f.code]), [[1, "ERROR", "BAD_REQUEST"]]);
      assert.match(frames[0]!.message, message);
    }
  });

  it("should drop the registration on unsubscribe and on $disconnect", async () => {
    await handler(wsEvent("$default", "c-unsub=", { action: "subscribe", jobId, apiKey }));
    await handler(wsEvent("$default", "c-gone=", { action: "subscribe", jobId, apiKey }));
    assert.ok(await registered("c-unsub=") && await registered("c-gone="));
    assert.deepEqual(await handler(wsEvent("$default", "c-unsub=", { action: "unsubscribe" })), { statusCode: 200 });
    assert.deepEqual(await handler(wsEvent("$disconnect", "c-gone=")), { statusCode: 200 });
    assert.equal(await registered("c-unsub="), null);
    assert.equal(await registered("c-gone="), null);
    // Disconnecting a connection that never subscribed is not an error.
    assert.deepEqual(await handler(wsEvent("$disconnect", "c-never=")), { statusCode: 200 });
  });

  it("should delete only registrations older than 2 h, posting nothing, when its schedule invokes it", async () => {
    const longAgo = new Date(Date.now() - (MAX_CONNECTION_SECONDS + 60) * 1000);
    await registry.register({ connectionId: "c-stale=", organizationId: org(), jobId, afterSlice: -1 }, longAgo);
    await handler(wsEvent("$default", "c-fresh=", { action: "subscribe", jobId, afterSlice: 2, apiKey }));
    api.posts.length = 0;
    assert.deepEqual(await handler(REGISTRY_CLEANUP_EVENT), { removedConnections: 1 });
    assert.equal(await registered("c-stale="), null);
    assert.ok(await registered("c-fresh="));
    assert.equal(api.posts.length, 0);
  });

  it("should refuse to start without the management endpoint", () => {
    assert.throws(() => createWebSocketHandler({ DATABASE_URL: h.db.url, JWT_SECRET, LOG_LEVEL: "silent" }), (e: unknown) => e instanceof ConfigError && /APIGW_MANAGEMENT_ENDPOINT/.test(e.message));
  });

  /** A bearer JWT for the harness's annotator, signed with the handler's secret and default issuer/audience. */
  function token(): Promise<string> {
    return new JoseTokenVerifier({ secret: JWT_SECRET, issuer: "coinseg", audience: "coinseg-api" }).sign(h.principal.userId, org(), 300);
  }
});
