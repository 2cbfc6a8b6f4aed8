// The web viewer as AWS serves it, in real Chromium: the page, its files and config.json from the API
// Lambda's handler behind a local HTTP API emulator, the job stream over a local API Gateway WebSocket
// emulator driving the real WebSocket Lambda (PROTOCOL.md §7), workers posting to its management API.
// Real Postgres, moto's SQS, the tiny fixture models. Skipped, saying why, where no Chromium is
// installed, unless COINSEG_REQUIRE_BROWSER=1, where that fails instead.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import type { Browser, Page } from "playwright-core";
import { ApiGatewayResultBus } from "../../adapters/apigw/apigw-result-bus.ts";
import { PrismaWebSocketConnectionRegistry } from "../../adapters/apigw/prisma-websocket-connection-registry.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { createLambdaHandler } from "../../app/lambda/create-lambda-handler.ts";
import { createWebSocketHandler } from "../../app/lambda/create-websocket-handler.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { statusEvent } from "../../core/services/segmentation.service.ts";
import type { SliceResultInput } from "../../core/domain/slice-result.ts";
import { createDispatchHarness, motoEndpoint, pollUntil, TEST_AWS, type DispatchHarness } from "../dispatch/support/dispatch-harness.ts";
import { startApiGatewayWebSocketEmulator, type ApiGatewayWebSocketEmulator } from "./support/apigw-websocket-emulator.ts";
import { startHttpApiEmulator, type HttpApiEmulator } from "./support/http-api-emulator.ts";
import { browserSkip, launchViewerPage, viewerTiles } from "./support/viewer-page.ts";

const SLICES = 3;
const JWT_SECRET = "a".repeat(40);

describe("web viewer in Chromium, served by the API Lambda and streaming over the API Gateway WebSocket API", { skip: browserSkip }, () => {
  let h: DispatchHarness;
  let websocket: ReturnType<typeof createWebSocketHandler>;
  let lambda: ReturnType<typeof createLambdaHandler>;
  let stage: ApiGatewayWebSocketEmulator;
  let http: HttpApiEmulator;
  let browser: Browser;
  let page: Page;
  let apiKey = "";
  let studyId = "";
  let sliceIds: string[] = [];
  const pageErrors: string[] = [];
  const org = () => h.principal.organizationId;

  before(async () => {
    h = await createDispatchHarness();
    apiKey = (await new AuthService(new PrismaIdentityRepository(h.db.prisma), { verify: async () => null }).issueApiKey(org(), h.principal.userId, "viewer")).key;
    ({ studyId, sliceIds } = await h.createStudy(SLICES));
    const aws = { AWS_REGION: TEST_AWS.region, AWS_ACCESS_KEY_ID: TEST_AWS.credentials.accessKeyId, AWS_SECRET_ACCESS_KEY: TEST_AWS.credentials.secretAccessKey };
    stage = await startApiGatewayWebSocketEmulator((event) => websocket(event));
    websocket = createWebSocketHandler({ DATABASE_URL: h.db.url, JWT_SECRET, LOG_LEVEL: "silent", APIGW_MANAGEMENT_ENDPOINT: stage.managementEndpoint, ...aws });
    lambda = createLambdaHandler({
      DATABASE_URL: h.db.url, JWT_SECRET, DICOM_UID_SECRET: "d".repeat(40), LOG_LEVEL: "silent", OBJECT_STORE: "local", LOCAL_STORE_DIR: h.storeDir,
      SQS_QUEUE_URL: h.queues.queueUrl, SQS_ENDPOINT: motoEndpoint(), VIEWER_STREAM_URL: stage.url, ...aws,
    });
    http = await startHttpApiEmulator(lambda);
    // As in AWS: the API sends the tasks, the workers do not relay, and post events to the stage too.
    await h.startWorker({ relayOutbox: false, apiGatewayEndpoint: stage.managementEndpoint });
    ({ browser, page } = await launchViewerPage(pageErrors));
  });
  after(async () => {
    await browser?.close();
    await h?.stopWorkers();
    await http?.close();
    await stage?.close();
    await lambda?.dispose();
    await websocket?.dispose();
    await h?.close();
  });

  /** areaPx per sliceIndex of a job's stored results. */
  async function areasOf(jobId: string): Promise<Map<number, number>> {
    return new Map((await h.jobs.resultsAfter(org(), jobId, -1)).map((r) => [r.sliceIndex, r.areaPx]));
  }


  /** Waits until every tile shows a result and holds its slice, then compares each with the stored areas. */
  async function assertGridShows(jobId: string): Promise<void> {
    await page.waitForFunction((n) => document.querySelectorAll("#slices figure[data-state=result]").length === n, SLICES);
    await page.waitForFunction(() => [...document.querySelectorAll("#slices canvas")].every((c) => (c as HTMLCanvasElement).width > 0));
    const expected = await areasOf(jobId);
    assert.equal(expected.size, SLICES);
    for (const t of await viewerTiles(page)) {
      assert.equal(t.area, expected.get(t.sliceIndex), `slice ${t.sliceIndex}: stated area`);
      assert.equal(t.tinted, t.area, `slice ${t.sliceIndex}: one tinted pixel per mask pixel`);
    }
  }

  /** The connection the stage holds registered for `jobId`, once there is one other than `not`. */
  const registeredFor = (jobId: string, not?: string) =>
    pollUntil(`a WebSocket registration for job ${jobId}`, async () => {
      const row = await h.db.prisma.webSocketConnection.findFirst({ where: { jobId, ...(not ? { connectionId: { not } } : {}) } });
      return row?.connectionId;
    });

  it("should stream a job requested from the page over the WebSocket API onto the grid when config.json names protocol apigw", async () => {
    await page.goto(`${http.url}/`);
    assert.equal(new URL(page.url()).pathname, "/viewer/");
    assert.deepEqual(await (await fetch(`${http.url}/viewer/config.json`)).json(), { stream: { protocol: "apigw", url: stage.url } });
    await page.fill("#api-key", apiKey);
    await page.click("#connect button[type=submit]");
    await page.click("#studies button");
    await page.waitForSelector("#segment button[type=submit]");
    await page.selectOption("#method", "COIN");
    assert.equal(await page.inputValue("#model"), "tiny-coin");
    await page.check("#force");
    await page.click("#segment button[type=submit]");
    await page.waitForSelector("#job-summary[data-status=SUCCEEDED]");
    const jobId = await page.$eval("#jobs button", (b) => (b as HTMLElement).dataset["jobId"]!);
    await assertGridShows(jobId);
    assert.match(await page.textContent("#job-summary") ?? "", new RegExp(`^COIN on tiny-coin: SUCCEEDED, ${SLICES} of ${SLICES} slices`));
    const subscribes = stage.messages.map((m) => JSON.parse(m.body)).filter((m) => m.jobId === jobId);
    assert.deepEqual(subscribes, [{ action: "subscribe", jobId, afterSlice: -1, apiKey }]);
    // The page closed its socket once the job ended (its $disconnect removed the registration).
    await pollUntil("the page's socket to close", async () => (stage.connectionIds().length === 0 ? true : undefined));
  });

  it("should read a result too large for one frame over GraphQL, resubscribe when the stage drops the connection, and catch up at the terminal status", async () => {
    const job = await h.segmentation.requestSegmentation(h.principal, { studyId, method: "COIN", modelKey: "tiny-coin" });
    await h.jobs.markRunning(org(), job.id);
    const result = (k: number, maskRle: number[], areaPx: number): SliceResultInput => ({
      jobId: job.id, sliceId: sliceIds[k]!, width: 128, height: 128, maskRle, bbox: areaPx ? [0, 0, 127, 127] : [], areaPx,
      pAbnormalBefore: 0.9, pAbnormalAfter: 0.2, flipped: true, timingsMs: {},
    });
    await h.jobs.saveResult(org(), result(0, [130, 4, 16250], 4)); // stored before: replayed at subscribe
    const bus = new ApiGatewayResultBus({ endpoint: stage.managementEndpoint, region: TEST_AWS.region, credentials: TEST_AWS.credentials, registry: new PrismaWebSocketConnectionRegistry(h.db.prisma) });
    try {
      // Opening the study again watches its newest job: this one.
      await page.click("#studies button");
      const first = await registeredFor(job.id);
      await page.waitForSelector("#slices figure[data-slice-index='0'][data-state=result]");

      // A checkerboard: 16 384 runs, a frame over 32 KiB, posted without its mask.
      const { result: big } = await h.jobs.saveResult(org(), result(1, new Array<number>(128 * 128).fill(1), 128 * 64));
      const event = { schemaVersion: 1, kind: "SLICE_RESULT", organizationId: org(), jobId: job.id, result: big } as const;
      const frame = JSON.parse(Buffer.from(await bus.frame(event)).toString("utf8"));
      assert.equal(frame.result.maskRle, undefined, "the frame leaves the mask out");
      const before = stage.posted.get(first) ?? 0;
      await bus.publish(event);
      await bus.publish(event); // a repeat: dropped by id
      assert.equal(stage.posted.get(first), before + 2);
      await page.waitForSelector("#slices figure[data-slice-index='1'][data-state=result]");

      stage.drop(first);
      await registeredFor(job.id, first);
      // Stored, never published: the terminal STATUS says 3 completed, and the page reads the third over GraphQL.
      await h.jobs.saveResult(org(), result(2, [0, 128 * 128], 128 * 128));
      const finished = await h.jobs.finish(org(), job.id, "SUCCEEDED");
      await bus.publish(statusEvent(finished!));
      await page.waitForSelector("#job-summary[data-status=SUCCEEDED]");
      await assertGridShows(job.id);
      assert.match(await page.textContent("#job-summary") ?? "", new RegExp(`^COIN on tiny-coin: SUCCEEDED, ${SLICES} of ${SLICES} slices`));
      assert.equal(stage.messages.filter((m) => JSON.parse(m.body).jobId === job.id).length, 2, "one subscribe, then one after the drop");
    } finally {
      bus.close();
    }
  });

  it("should raise no script error (no CSP violation either) on the page and no handler error on the stage", () => {
    assert.deepEqual(pageErrors, []);
    assert.deepEqual(stage.handlerErrors, []);
  });
});
