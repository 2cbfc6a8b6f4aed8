// The web viewer in real Chromium (Debian's package, driven by playwright-core) against the embedded
// server with the real ONNX worker and the committed kidney-blob models: a phantom study from the
// demo client, its COIN masks drawn on the slices (streamed, and read once where no stream is configured), a job requested from the page and streamed to the
// end, a job cancelled, the window switched, a wrong key; and the committed HTML evaluation reports. Skipped, saying why, where no Chromium is installed, unless
// COINSEG_REQUIRE_BROWSER=1 (CI sets it and installs Chromium), where that fails instead.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { pino } from "pino";
import type { Browser, Page } from "playwright-core";
import { startEmbedded, type EmbeddedInstance } from "../../app/start-embedded.ts";
import { runDemo } from "../../app/demo/run-demo.ts";
import { ModelDirectoryRegistry } from "../../adapters/onnx/model-directory-registry.ts";
import { OnnxInferenceEngine } from "../../adapters/onnx/onnx-inference-engine.ts";
import { PipelineTaskHandler } from "../../workers/pipeline/pipeline-task-handler.ts";
import { SegmentationPipeline } from "../../workers/pipeline/segmentation-pipeline.ts";
import { decodeRle } from "../../core/domain/rle.ts";
import { decodeNifti } from "../../imaging/nifti/nifti-decoder.ts";
import { browserSkip, launchViewerPage, viewerTiles } from "./support/viewer-page.ts";

const SLICES = 10;

describe("web viewer in Chromium", { skip: browserSkip }, () => {
  let dir: string;
  let instance: EmbeddedInstance;
  let browser: Browser;
  let page: Page;
  const pageErrors: string[] = [];
  let demoJobId = "";
  let held: Promise<void> = Promise.resolve();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-viewer-"));
    const modelsDir = fileURLToPath(new URL("../../models", import.meta.url));
    const logger = pino({ level: "silent" });
    instance = await startEmbedded(
      {
        modelsDir, pgliteDataDir: "memory://", localStoreDir: dir, host: "127.0.0.1", port: 0,
        jwt: { secret: "v".repeat(40), issuer: "coinseg", audience: "coinseg-api" },
        introspection: false, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 64 << 20, uploadUrlTtlSeconds: 60,
      },
      logger,
      (deps) => {
        const engine = new OnnxInferenceEngine({ registry: new ModelDirectoryRegistry(modelsDir), executionProviders: ["cpu"], intraOpNumThreads: 1, logger });
        const real = new PipelineTaskHandler({ pipeline: new SegmentationPipeline({ engine }), engine, sink: deps.sink, bus: deps.bus, store: deps.store, slices: deps.slices });
        // Tasks wait while a test holds the worker (to cancel a job before it runs).
        return { handle: async (task) => { await held; return real.handle(task); } };
      },
    );
    const quiet = new Writable({ write: (_c, _e, done) => done() });
    const demo = await runDemo({ graphqlUrl: instance.server.graphqlUrl, apiKey: instance.bootstrap.apiKey, outDir: dir, slices: SLICES, out: quiet, progressBar: false });
    assert.equal(demo.status, "SUCCEEDED");
    demoJobId = demo.jobId!;
    ({ browser, page } = await launchViewerPage(pageErrors));
  });
  after(async () => {
    await browser?.close();
    await instance?.stop();
    await rm(dir, { recursive: true, force: true });
  });

  /** areaPx per sliceIndex of a job, read over GraphQL (the reference the page must match). */
  async function areasOf(jobId: string): Promise<Map<number, number>> {
    const res = await fetch(instance.server.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": instance.bootstrap.apiKey },
      body: JSON.stringify({ query: "query($id: ID!) { segmentationJob(id: $id) { results { sliceIndex areaPx } } }", variables: { id: jobId } }),
    });
    const body = (await res.json()) as { data: { segmentationJob: { results: { sliceIndex: number; areaPx: number }[] } } };
    return new Map(body.data.segmentationJob.results.map((r) => [r.sliceIndex, r.areaPx]));
  }

  const tiles = () => viewerTiles(page);

  /**
   * The tiles once every one is drawn: previews load beside the results (a canvas is 300 px wide
   * before its slice arrives), so poll, bounded, until each tile tints as many pixels as its mask states.
   */
  async function drawnTiles(on: Page) {
    let drawn = await viewerTiles(on);
    for (let tries = 0; tries < 100 && drawn.some((t) => t.tinted !== Math.max(0, t.area)); tries++) {
      await new Promise((r) => setTimeout(r, 100));
      drawn = await viewerTiles(on);
    }
    return drawn;
  }

  /** Connects `on` with the API key, opens the demo's study and returns its tiles once its job's 10 results are drawn. */
  async function openDemoStudy(on: Page) {
    await on.goto(`${instance.server.baseUrl}/`);
    await on.fill("#api-key", instance.bootstrap.apiKey);
    await on.click("#connect button[type=submit]");
    await on.click("#studies button");
    await on.waitForFunction((n) => document.querySelectorAll("#slices figure[data-state=result]").length === n, SLICES);
    assert.match(await on.textContent("#job-summary") ?? "", /^COIN on kidney-blob-coin: SUCCEEDED, 10 of 10 slices/);
    return drawnTiles(on);
  }

  it("should draw each slice with its COIN mask when connected with the API key and a study is opened", async () => {
    const drawn = await openDemoStudy(page);
    const expected = await areasOf(demoJobId);
    assert.equal(drawn.length, SLICES);
    for (const t of drawn) {
      assert.equal(t.area, expected.get(t.sliceIndex), `slice ${t.sliceIndex}: stated area`);
      assert.equal(t.tinted, t.area, `slice ${t.sliceIndex}: one tinted pixel per mask pixel`);
    }
    assert.ok(drawn.filter((t) => t.area > 0).length >= 2, "the demo's central slices hold blobs that COIN finds");
  });

  it("should read a job once and draw the same masks when the server configures no stream", async () => {
    // An API Lambda without VIEWER_STREAM_URL serves { stream: null }; here only config.json says so.
    const plain = await browser.newPage();
    const errors: string[] = [];
    plain.on("pageerror", (e) => errors.push(e.message));
    let configReads = 0;
    await plain.route("**/viewer/config.json", (route) => {
      configReads++;
      return route.fulfill({ contentType: "application/json", body: JSON.stringify({ stream: null }) });
    });
    const sockets: string[] = [];
    plain.on("websocket", (ws) => sockets.push(ws.url()));
    try {
      const expected = await areasOf(demoJobId);
      for (const t of await openDemoStudy(plain)) {
        assert.equal(t.area, expected.get(t.sliceIndex), `slice ${t.sliceIndex}: stated area`);
        assert.equal(t.tinted, t.area, `slice ${t.sliceIndex}: one tinted pixel per mask pixel`);
      }
      assert.ok(configReads >= 1, "the page read the routed configuration");
      assert.deepEqual(sockets, [], "no WebSocket is opened without a stream");
      assert.deepEqual(errors, []);
    } finally {
      await plain.close();
    }
  });

  it("should colour each pixel by the mask's agreement with the reference masks and show the job's pooled IoU when the reference is shown", async () => {
    const res = await fetch(instance.server.graphqlUrl, {
      method: "POST",
      headers: { "content-type": "application/json", "x-api-key": instance.bootstrap.apiKey },
      body: JSON.stringify({
        query: `query($id: ID!) { segmentationJob(id: $id) { evaluation { pooledIoU positiveSlices }
          results { sliceIndex width height maskRle } study { slices { edges { node { sliceIndex groundTruth { rle } } } } } } }`,
        variables: { id: demoJobId },
      }),
    });
    const job = ((await res.json()) as { data: { segmentationJob: any } }).data.segmentationJob;
    const truthOf = new Map<number, number[]>(job.study.slices.edges.map((e: any) => [e.node.sliceIndex, e.node.groundTruth.rle]));
    const expected = new Map<number, { tp: number; fp: number; fn: number }>();
    let sum = { tp: 0, fp: 0, fn: 0 };
    for (const r of job.results) {
      const n = r.width * r.height;
      const [mask, truth] = [decodeRle(r.maskRle, n), decodeRle(truthOf.get(r.sliceIndex)!, n)];
      const c = { tp: 0, fp: 0, fn: 0 };
      for (let p = 0; p < n; p++) if (mask[p] && truth[p]) c.tp++; else if (mask[p]) c.fp++; else if (truth[p]) c.fn++;
      expected.set(r.sliceIndex, c);
      if (c.tp + c.fn > 0) sum = { tp: sum.tp + c.tp, fp: sum.fp + c.fp, fn: sum.fn + c.fn };
    }
    assert.ok(job.evaluation.positiveSlices >= 2, "the demo's central slices hold blobs");
    assert.ok(Math.abs(job.evaluation.pooledIoU - sum.tp / (sum.tp + sum.fp + sum.fn)) < 1e-12, "the API's pooled IoU is the pixels' own");

    assert.equal(await page.isEnabled("#show-truth"), true);
    await page.check("#show-truth");
    const colours = await page.$$eval("#slices figure", (figures) =>
      figures.map((f) => {
        const canvas = f.querySelector("canvas")!;
        const d = canvas.getContext("2d")!.getImageData(0, 0, canvas.width, canvas.height).data;
        const c = { tp: 0, fp: 0, fn: 0 };
        for (let p = 0; p < d.length; p += 4) {
          const [r, g, b] = [d[p]!, d[p + 1]!, d[p + 2]!];
          if (g - r > 60 && g - b > 60) c.tp++; // green: found
          else if (r - g > 60 && r - b > 60) c.fp++; // red: extra
          else if (r - b > 60 && g - b > 60 && Math.abs(r - g) < 30) c.fn++; // yellow: missed
        }
        return { sliceIndex: Number(f.dataset["sliceIndex"]), c, caption: f.querySelector("figcaption")!.textContent ?? "" };
      }),
    );
    for (const t of colours) {
      assert.deepEqual(t.c, expected.get(t.sliceIndex), `slice ${t.sliceIndex}`);
      const e = expected.get(t.sliceIndex)!;
      assert.match(t.caption, new RegExp(`· reference ${e.tp + e.fn} px`), `slice ${t.sliceIndex}`);
    }
    // The summary gains the score once the finished job's stream has ended.
    const score = `; against the reference: pooled IoU ${job.evaluation.pooledIoU.toFixed(3)}, Dice \\d\\.\\d{3} \\(${job.evaluation.positiveSlices} slices; \\d+ false alarms\\)$`;
    await page.waitForFunction((re) => new RegExp(re).test(document.querySelector("#job-summary")!.textContent ?? ""), score);
    await page.uncheck("#show-truth");
    for (const t of await tiles()) assert.equal(t.tinted, t.area, `slice ${t.sliceIndex}: cyan again`);
  });

  it("should save the open job's masks as a NIfTI label volume whose voxels are the stored masks", async () => {
    const [download] = await Promise.all([page.waitForEvent("download"), page.click("#download-masks")]);
    assert.match(download.suggestedFilename(), new RegExp(`^job-${demoJobId}-series-[0-9a-f-]{36}-masks\\.nii\\.gz$`));
    const volume = decodeNifti(new Uint8Array(await readFile((await download.path())!)));
    const areas = await areasOf(demoJobId);
    const [nx, ny, nz] = volume.dimsIJK;
    assert.equal(nz, SLICES);
    for (let k = 0; k < nz; k++) {
      let on = 0;
      for (let p = 0; p < nx * ny; p++) on += volume.data[k * nx * ny + p]!;
      assert.equal(on, areas.get(k), `slice ${k}`);
    }
    await page.waitForFunction(() => /^saved job-.*-masks\.nii\.gz \(10 slices with a result\)$/.test(document.querySelector("#status")!.textContent ?? ""));
  });

  it("should stream a job requested from the page to its end and list it first", async () => {
    await page.selectOption("#method", "LAYER_CAM");
    assert.deepEqual(await page.$$eval("#model option", (o) => o.map((x) => (x as HTMLOptionElement).value)), ["kidney-blob-classifier", "kidney-lesion-classifier"]);
    await page.check("#force");
    await page.click("#segment button[type=submit]");
    await page.waitForSelector("#job-summary[data-status=SUCCEEDED]");
    await page.waitForFunction((n) => document.querySelectorAll("#slices figure[data-state=result]").length === n, SLICES);
    const jobs = await page.$$eval("#jobs button", (b) => b.map((x) => x.textContent ?? ""));
    assert.equal(jobs.length, 2);
    assert.match(jobs[0]!, /^LAYER_CAM · kidney-blob-classifier · SUCCEEDED · 10\/10/);
    const jobId = await page.$eval("#jobs button", (b) => (b as HTMLElement).dataset["jobId"]!);
    const expected = await areasOf(jobId);
    for (const t of await tiles()) assert.equal(t.tinted, expected.get(t.sliceIndex), `slice ${t.sliceIndex}`);
  });

  it("should cancel a queued job from the page and show it cancelled", async () => {
    let release!: () => void;
    held = new Promise<void>((r) => (release = r));
    try {
      await page.selectOption("#method", "COIN");
      await page.click("#segment button[type=submit]");
      await page.waitForSelector("#job-summary[data-status=QUEUED]");
      await page.click("#cancel");
      await page.waitForSelector("#job-summary[data-status=CANCELLED]");
      assert.equal(await page.isHidden("#cancel"), true);
      assert.match(await page.textContent("#status") ?? "", /cancelled$/);
    } finally {
      release();
    }
    const jobId = await page.$eval("#jobs button", (b) => (b as HTMLElement).dataset["jobId"]!);
    assert.equal((await areasOf(jobId)).size, 0, "the released task finds the job cancelled and stores nothing");
  });

  it("should re-draw the slices in another display window and keep the masks", async () => {
    const layerCam = (await page.$$("#jobs button"))[1]!; // newest first: cancelled COIN, LayerCAM, the demo's COIN
    assert.match(await layerCam.textContent() ?? "", /^LAYER_CAM/);
    await layerCam.click();
    await page.waitForFunction((n) => document.querySelectorAll("#slices figure[data-state=result]").length === n, SLICES);
    const canvases = () => [...document.querySelectorAll("#slices canvas")].map((c) => (c as HTMLCanvasElement).toDataURL());
    const before = await page.evaluate(canvases);
    await page.selectOption("#window", "-1000,1000");
    await page.waitForFunction(
      (b) => [...document.querySelectorAll("#slices canvas")].every((c, i) => (c as HTMLCanvasElement).toDataURL() !== b[i]), before);
    const expected = await areasOf(await layerCam.evaluate((b) => (b as HTMLElement).dataset["jobId"]!));
    for (const t of await tiles()) assert.equal(t.tinted, expected.get(t.sliceIndex), `slice ${t.sliceIndex}`);
  });

  it("should show the server's error code and no study when the key is wrong", async () => {
    const other = await browser.newPage();
    await other.goto(`${instance.server.baseUrl}/viewer/`);
    await other.fill("#api-key", "cs_00000000_not-a-key");
    await other.click("#connect button[type=submit]");
    await other.waitForSelector("#status.error");
    assert.match(await other.textContent("#status") ?? "", /^UNAUTHENTICATED: /);
    assert.equal(await other.isHidden("main"), true);
    await other.close();
  });

  it("should display every overlay of the committed HTML evaluation reports", async () => {
    const report = await browser.newPage();
    for (const benchmark of ["kidney-blob", "kidney-lesion"]) {
      await report.goto(new URL(`../../reports/${benchmark}/report.html`, import.meta.url).href);
      const images = await report.$$eval("img", (imgs) => imgs.map((i) => ({ src: i.getAttribute("src"), ok: (i as HTMLImageElement).complete && (i as HTMLImageElement).naturalWidth > 0 })));
      assert.ok(images.length >= 30, `${benchmark}: ${images.length} overlays`);
      assert.deepEqual(images.filter((i) => !i.ok).map((i) => i.src), [], benchmark);
    }
    await report.close();
  });

  it("should list fifty studies and load the rest on request when the organisation has more", async () => {
    for (let i = 0; i < 55; i++) {
      const res = await fetch(instance.server.graphqlUrl, {
        method: "POST",
        headers: { "content-type": "application/json", "x-api-key": instance.bootstrap.apiKey },
        body: JSON.stringify({ query: "mutation($t: String!) { createStudy(input: { title: $t }) { study { id } } }", variables: { t: `extra ${i}` } }),
      });
      assert.equal(res.status, 200);
    }
    const other = await browser.newPage();
    other.on("pageerror", (e) => pageErrors.push(e.message));
    await other.goto(`${instance.server.baseUrl}/viewer/`);
    await other.fill("#api-key", instance.bootstrap.apiKey);
    await other.click("#connect button[type=submit]");
    await other.waitForSelector("#more-studies:not([hidden])");
    assert.equal(await other.locator("#studies li").count(), 50);
    assert.match(await other.textContent("#status") ?? "", /: 50 studies \(more to load\)$/);
    await other.click("#more-studies");
    await other.waitForSelector("#more-studies", { state: "hidden" });
    const titles = await other.$$eval("#studies button", (bs) => bs.map((b) => b.textContent));
    assert.equal(titles.length, 56); // the 55 and the demo's study, each once
    assert.equal(new Set(titles).size, 56);
    assert.equal(await other.textContent("#status"), "56 studies");
    await other.close();
  });

  it("should raise no script error on the page", () => {
    assert.deepEqual(pageErrors, []);
  });
});
