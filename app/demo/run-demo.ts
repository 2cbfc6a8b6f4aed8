// The first-command demo: a client of the running server that imports a phantom study, labels it,
// stores the phantom's target masks as reference masks, requests COIN, prints each slice's result as it
// streams in (with a progress bar), the job's pooled IoU against the reference, and writes an overlay PNG.
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { SingleBar } from "cli-progress";
import { createClient } from "graphql-ws";
import WebSocket from "ws";
import { decodeRle } from "../../core/domain/rle.ts";
import { generateBenchmarkScan, LABEL } from "../../imaging/phantom/benchmark-scan.ts";
import { writeNifti } from "../../imaging/nifti/nifti-writer.ts";
import { renderMaskOverlayPng } from "../../imaging/render/mask-overlay-png.ts";

/** Where and how the demo runs. */
export interface DemoOptions {
  /** GraphQL HTTP URL of the running server. */
  readonly graphqlUrl: string;
  readonly apiKey: string;
  /** Folder for the overlay PNG. */
  readonly outDir: string;
  /** Slices of the phantom study (default 40). */
  readonly slices?: number;
  /** Where progress goes (default process.stdout). */
  readonly out?: NodeJS.WritableStream;
  /** Draw a progress bar (default: when `out` is a TTY). */
  readonly progressBar?: boolean;
}

/** What the demo did. */
export interface DemoOutcome {
  readonly status: "SUCCEEDED" | "FAILED" | "CANCELLED" | "SKIPPED";
  /** Why the demo skipped segmentation (no suitable model). */
  readonly reason?: string;
  readonly studyId: string;
  readonly jobId?: string;
  readonly method?: string;
  readonly modelKey?: string;
  /** sliceIndex of every SLICE_RESULT received, in arrival order. */
  readonly streamedSlices: number[];
  readonly overlayPng?: string;
  /** The job's score against the phantom's target masks (SegmentationJob.evaluation). */
  readonly evaluation?: DemoEvaluation | null;
}

/** The fields of SegmentationJob.evaluation the demo reads. */
export interface DemoEvaluation { positiveSlices: number; pooledIoU: number | null; pooledDice: number | null; falsePositiveSlices: number }

interface StreamedResult { sliceIndex: number; width: number; height: number; areaPx: number; maskRle: number[]; pAbnormalBefore: number; pAbnormalAfter: number; flipped: boolean }

/** Runs the demo against a server; never leaves a connection open. */
export async function runDemo(o: DemoOptions): Promise<DemoOutcome> {
  const out = o.out ?? process.stdout;
  const say = (line: string) => void out.write(`${line}\n`);
  const gql = async <T>(query: string, variables: Record<string, unknown> = {}): Promise<T> => {
    const res = await fetch(o.graphqlUrl, { method: "POST", headers: { "content-type": "application/json", "x-api-key": o.apiKey }, body: JSON.stringify({ query, variables }) });
    const body = (await res.json()) as { data?: T; errors?: { message: string; extensions?: { code?: string } }[] };
    if (body.errors?.length) throw new Error(`GraphQL: ${body.errors.map((e) => `${e.extensions?.code ?? ""} ${e.message}`).join("; ")}`);
    return body.data!;
  };

  // 1. A phantom CT study (kidney-blob benchmark, scan 0), as a NIfTI upload.
  const count = o.slices ?? 40;
  const scan = generateBenchmarkScan(0, { benchmark: "kidney-blob", seed: 7, windowHU: [49, 255] });
  const { width, height, slices: depth, pixelMm, sliceMm } = scan.geometry;
  const first = Math.max(0, Math.floor((depth - count) / 2));
  const plane = width * height;
  const volumeHU = scan.volumeHU.slice(first * plane, (first + count) * plane);
  const labelMap = scan.labels.slice(first * plane, (first + count) * plane);
  const abnormal = Array.from({ length: count }, (_, k) => scan.slices.find((s) => s.sliceIndex === first + k)?.label === 1);
  const grid = { dimsIJK: [width, height, count], spacingMm: [pixelMm, pixelMm, sliceMm], originLPS: [0, 0, 0], directionLPS: [[1, 0, 0], [0, 1, 0], [0, 0, 1]] } as const;
  const nifti = writeNifti({ ...grid, unit: "HU", data: volumeHU });
  const { createStudy } = await gql<{ createStudy: { study: { id: string } } }>(`mutation { createStudy(input: { title: "demo: kidney-blob phantom" }) { study { id } } }`);
  const studyId = createStudy.study.id;
  const uploadNifti = async (bytes: Uint8Array): Promise<string> => {
    const { requestUpload } = await gql<{ requestUpload: { uploadKey: string; url: string; method: string; headers: Record<string, string> } }>(
      `mutation ($n: Int!) { requestUpload(input: { format: NIFTI, contentType: "application/octet-stream", sizeBytes: $n }) { uploadKey url method headers } }`, { n: bytes.byteLength });
    const put = await fetch(requestUpload.url, { method: requestUpload.method, headers: requestUpload.headers, body: Buffer.from(bytes) });
    if (!put.ok) throw new Error(`upload failed: HTTP ${put.status}`);
    return requestUpload.uploadKey;
  };
  const { importStudy } = await gql<{ importStudy: { study: { series: { id: string }[]; slices: { edges: { node: { id: string; sliceIndex: number } }[] } } } }>(
    `mutation ($studyId: ID!, $key: String!) { importStudy(input: { studyId: $studyId, uploadKeys: [$key], format: NIFTI }) { study { series { id } slices(first: 100) { edges { node { id sliceIndex } } } } } }`,
    { studyId, key: await uploadNifti(nifti) });
  const sliceIds = importStudy.study.slices.edges.map((e) => e.node).sort((a, b) => a.sliceIndex - b.sliceIndex).map((n) => n.id);
  // 2. Image-level labels only: which slices are abnormal (all COIN trains and runs on).
  await gql(`mutation ($input: SetLabelsInput!) { setLabels(input: $input) { labels { value } } }`, {
    input: { studyId, labels: sliceIds.map((id, k) => ({ sliceId: id, value: abnormal[k] ? "ABNORMAL" : "NORMAL" })) },
  });
  say(`demo: imported a ${count}-slice phantom study (${abnormal.filter(Boolean).length} slices labelled ABNORMAL), study ${studyId}`);
  // 2b. The phantom knows where its targets are: store them as reference masks, to score the job.
  const { importGroundTruth } = await gql<{ importGroundTruth: { positiveSlices: number } }>(
    `mutation ($studyId: ID!, $seriesId: ID!, $key: String!, $target: Int!) { importGroundTruth(input: { studyId: $studyId, seriesId: $seriesId, uploadKeys: [$key], format: NIFTI, labelValues: [$target] }) { positiveSlices } }`,
    { studyId, seriesId: importStudy.study.series[0]!.id, key: await uploadNifti(writeNifti({ ...grid, unit: "label", data: labelMap }, { intentCode: 1002 })), target: LABEL.target });
  say(`demo: stored the phantom's target masks as reference masks (${importGroundTruth.positiveSlices} slices hold a target)`);

  // 3. The model: the kidney-blob COIN generator when trained, else a saliency baseline on the classifier.
  const { models } = await gql<{ models: { key: string; kind: string }[] }>(`{ models { key kind } }`);
  const coin = models.find((m) => m.kind === "COIN_GENERATOR" && m.key.startsWith("kidney-blob")) ?? models.find((m) => m.kind === "COIN_GENERATOR");
  const classifier = models.find((m) => m.kind === "CLASSIFIER" && m.key.startsWith("kidney-blob")) ?? models.find((m) => m.kind === "CLASSIFIER");
  let method = "COIN";
  let modelKey = coin?.key;
  if (!coin) {
    if (!classifier) {
      const reason = "no models in models/: add models/<key>/model.json + model.onnx (see docs/MODEL-SPEC.md, `npm run train`) and restart";
      say(`demo: skipped segmentation — ${reason}`);
      return { status: "SKIPPED", reason, studyId, streamedSlices: [] };
    }
    say(`demo: no COIN generator in models/ yet (train one with \`npm run train\`); showing LAYER_CAM on ${classifier.key} instead`);
    method = "LAYER_CAM";
    modelKey = classifier.key;
  }

  // 4. Request, then stream each slice's result as it completes.
  const { requestSegmentation } = await gql<{ requestSegmentation: { job: { id: string; totalSlices: number } } }>(
    `mutation ($studyId: ID!, $modelKey: String!) { requestSegmentation(input: { studyId: $studyId, method: ${method}, modelKey: $modelKey }) { job { id totalSlices } } }`,
    { studyId, modelKey });
  const job = requestSegmentation.job;
  say(`demo: ${method} job ${job.id} on ${modelKey}, ${job.totalSlices} slices`);
  const useBar = o.progressBar ?? Boolean((out as NodeJS.WriteStream).isTTY);
  const bar = useBar ? new SingleBar({ format: "  {bar} {value}/{total} slices | {last}", stream: out as NodeJS.WriteStream, hideCursor: true }) : null;
  bar?.start(job.totalSlices, 0, { last: "" });
  const results: StreamedResult[] = [];
  const ws = createClient({ url: o.graphqlUrl.replace(/^http/, "ws"), webSocketImpl: WebSocket, connectionParams: { apiKey: o.apiKey }, retryAttempts: 0 });
  let status: DemoOutcome["status"] = "FAILED";
  try {
    const updates = ws.iterate<{ segmentationJobUpdated: { job: { status: string; completedSlices: number; failedSlices: number }; result: StreamedResult | null } }>({
      query: `subscription ($jobId: ID!) { segmentationJobUpdated(jobId: $jobId, afterSlice: -1) {
        job { status completedSlices failedSlices } result { sliceIndex width height areaPx maskRle pAbnormalBefore pAbnormalAfter flipped } } }`,
      variables: { jobId: job.id },
    });
    for await (const msg of updates) {
      if (msg.errors) throw new Error(`subscription: ${JSON.stringify(msg.errors)}`);
      const u = msg.data!.segmentationJobUpdated;
      if (u.result) {
        results.push(u.result);
        const r = u.result;
        const line = `slice ${String(r.sliceIndex).padStart(2)}  P(abnormal) ${r.pAbnormalBefore.toFixed(3)} → ${r.pAbnormalAfter.toFixed(3)}  mask ${String(r.areaPx).padStart(5)} px${r.flipped ? "  flipped" : ""}`;
        if (bar) bar.update(u.job.completedSlices + u.job.failedSlices, { last: line });
        else say(`  [${progressText(results.length, job.totalSlices)}] ${line}`);
      }
      if (["SUCCEEDED", "FAILED", "CANCELLED"].includes(u.job.status)) status = u.job.status as DemoOutcome["status"];
    }
  } finally {
    bar?.stop();
    await ws.dispose();
  }
  say(`demo: job ${status}, ${results.length} slice results streamed`);
  const { segmentationJob } = await gql<{ segmentationJob: { evaluation: DemoEvaluation | null } }>(
    `query ($id: ID!) { segmentationJob(id: $id) { evaluation { positiveSlices pooledIoU pooledDice falsePositiveSlices } } }`, { id: job.id });
  const evaluation = segmentationJob.evaluation;
  if (evaluation?.pooledIoU != null) {
    say(`demo: against the reference masks: pooled IoU ${evaluation.pooledIoU.toFixed(3)}, Dice ${evaluation.pooledDice!.toFixed(3)} over ${evaluation.positiveSlices} slices with a target; ${evaluation.falsePositiveSlices} slices without one got a mask`);
  }

  // 5. An overlay of the slice with the largest mask.
  let overlayPng: string | undefined;
  const best = [...results].sort((a, b) => b.areaPx - a.areaPx)[0];
  if (best && best.width === width && best.height === height) {
    const k = best.sliceIndex;
    const png = renderMaskOverlayPng({
      slice: { width, height, data: volumeHU.subarray(k * plane, (k + 1) * plane) },
      windowHU: [-160, 240],
      mask: { width, height, data: decodeRle(best.maskRle, plane) },
      groundTruth: { width, height, data: Uint8Array.from(labelMap.subarray(k * plane, (k + 1) * plane), (v) => (v === LABEL.target ? 1 : 0)) },
    });
    await mkdir(o.outDir, { recursive: true });
    overlayPng = path.resolve(o.outDir, `demo-overlay-slice-${k}.png`);
    await writeFile(overlayPng, png);
    say(`demo: overlay of slice ${k} (${best.areaPx} px; green found, red extra, yellow missed) written to ${overlayPng}`);
  }
  return { status, studyId, jobId: job.id, method, modelKey: modelKey!, streamedSlices: results.map((r) => r.sliceIndex), evaluation, ...(overlayPng ? { overlayPng } : {}) };
}

function progressText(done: number, total: number): string {
  const width = 20;
  const filled = Math.round((done / Math.max(1, total)) * width);
  return `${"#".repeat(filled)}${"-".repeat(width - filled)} ${String(done).padStart(String(total).length)}/${total}`;
}
