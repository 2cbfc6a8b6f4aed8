// The coinseg web viewer: a plain client of the GraphQL API (HTTP for queries and mutations; the job
// stream over graphql-ws, or over API Gateway's WebSocket API in AWS, as config.json says) and of
// GET /slices/:id/preview.png for pixels. No build step: served as-is at /viewer/ by the API server
// and the API Lambda; masks are decoded by the server's own core/domain/rle.ts, served as lib/rle.js.
// Every text from the server goes in via textContent.
/* global graphqlWs */
import { decodeRle } from "./lib/rle.js";

const $ = (id) => document.getElementById(id);
const KEY_STORAGE = "coinseg.apiKey";
const MASK_RGB = [0, 200, 255];
/** With the reference shown (imaging/render/mask-overlay-png.ts's colours): found, extra, missed. */
const TRUTH_RGB = { tp: [0, 255, 0], fp: [255, 0, 0], fn: [255, 255, 0] };
const MASK_ALPHA = 0.5;
const PREVIEW_CONCURRENCY = 4;
const MAX_SLICES = 1000;
const STUDY_PAGE = 50;
/** The job fields every view of a job reads. */
const JOB_FIELDS = "id method modelKey status completedSlices failedSlices totalSlices errorCode masksPath";
const EVALUATION_FIELDS = "evaluation { positiveSlices pooledIoU pooledDice falsePositiveSlices }";
/** The result fields the grid reads. */
const RESULT_FIELDS = "id sliceId sliceIndex width height maskRle areaPx pAbnormalBefore pAbnormalAfter flipped";

const state = {
  apiKey: "",
  /** The job stream of the connection ({@link createStream}). */
  stream: null,
  models: [],
  study: null,
  /** sliceId → { figure, canvas, caption, slice, bitmap, bitmapWindow, result } */
  tiles: new Map(),
  job: null,
  stopWatching: null,
  /** Cursor of the next page of studies, or null when all are listed. */
  studiesAfter: null,
  /** Bumped on every study or job switch; stale async work checks it and stops. */
  generation: 0,
};

function setStatus(text, isError = false) {
  const el = $("status");
  el.textContent = text;
  el.classList.toggle("error", isError);
}

/** An error thrown for a GraphQL or HTTP error, with the server's code. */
class ApiError extends Error {
  constructor(code, message) {
    super(`${code}: ${message}`);
    this.code = code;
  }
}

async function gql(query, variables = {}) {
  const res = await fetch("/graphql", {
    method: "POST",
    headers: { "content-type": "application/json", "x-api-key": state.apiKey },
    body: JSON.stringify({ query, variables }),
  });
  const body = await res.json().catch(() => ({}));
  if (body.errors?.length) {
    const e = body.errors[0];
    throw new ApiError(e.extensions?.code ?? "ERROR", e.message);
  }
  if (!res.ok || !body.data) throw new ApiError("HTTP_" + res.status, "the request failed");
  return body.data;
}

/**
 * The display window: the one picked, or the model's (its spec's preprocess.windowHU; the open job's
 * model, else the first classifier — the same kidney window for saliency and counterfactual models),
 * or null for the server's default.
 */
function displayWindow() {
  const picked = $("window").value;
  if (picked !== "model") return picked.split(",").map(Number);
  const modelKey = state.job?.modelKey ?? state.models.find((m) => m.kind === "CLASSIFIER")?.key;
  const w = state.models.find((m) => m.key === modelKey)?.spec?.preprocess?.windowHU;
  return Array.isArray(w) && w.length === 2 ? w : null;
}

const TERMINAL = new Set(["SUCCEEDED", "FAILED", "CANCELLED"]);

/** The viewer's configuration from its server (GET /viewer/config.json): `{ stream }`. */
async function loadConfig() {
  const res = await fetch(new URL("config.json", import.meta.url));
  if (!res.ok) throw new ApiError("HTTP_" + res.status, "the viewer's configuration did not load");
  return res.json();
}

/** A job's stored results with sliceIndex > afterSlice, read over GraphQL. */
async function storedResults(jobId, afterSlice) {
  const data = await gql(`query Results($id: ID!, $after: Int!) { segmentationJob(id: $id) { results(afterSlice: $after) { ${RESULT_FIELDS} } } }`,
    { id: jobId, after: afterSlice });
  if (!data.segmentationJob) throw new ApiError("NOT_FOUND", "segmentation job not found");
  return data.segmentationJob.results;
}

/*
 * Job streams. Each has `watch(jobId, afterSlice, { next, error, complete })`, which returns a function
 * that stops watching, and `dispose()`. `next` gets updates `{ job, result }` as the GraphQL
 * subscription `segmentationJobUpdated` yields them (`job`: the job's fields known so far; `result`
 * null or one slice's RESULT_FIELDS, each result once); `error` an ApiError (the server's code) or the
 * transport's error; `complete` comes after the job's terminal status.
 */

/** The `segmentationJobUpdated` subscription over graphql-ws at `url`. */
function graphqlWsStream(url, apiKey) {
  const client = graphqlWs.createClient({ url, connectionParams: { apiKey }, lazy: true, retryAttempts: 3 });
  return {
    watch: (jobId, afterSlice, sink) => client.subscribe(
      {
        operationName: "Watch",
        query: `subscription Watch($jobId: ID!, $afterSlice: Int!) { segmentationJobUpdated(jobId: $jobId, afterSlice: $afterSlice) {
          job { ${JOB_FIELDS} } result { ${RESULT_FIELDS} } } }`,
        variables: { jobId, afterSlice },
      },
      {
        next: ({ data, errors }) => errors?.length
          ? sink.error(new ApiError(errors[0].extensions?.code ?? "ERROR", errors[0].message))
          : sink.next(data.segmentationJobUpdated),
        error: (error) => sink.error(error),
        complete: () => sink.complete(),
      },
    ),
    dispose: () => client.dispose(),
  };
}

/** Reconnections of an API Gateway stream in a row without a frame in between (it closes idle ones after 10 min). */
const APIGW_RECONNECTS = 3;

/**
 * The API Gateway WebSocket API at `url` (PROTOCOL.md §7): a socket per watched job; on open it sends
 * `subscribe` with the API key. STATUS frames become job updates, SLICE_RESULT frames result updates
 * (one without `maskRle`, over API Gateway's 32 KiB frame limit, is read over GraphQL), counts only
 * grow; ERROR frames end the watch with their code. At the terminal STATUS any result the replay and
 * the live posts missed is read over GraphQL (§7.4), then the watch completes. A socket closed before
 * that is reopened and resubscribed (results already held are dropped by id).
 */
function apigwStream(url, apiKey) {
  return {
    watch(jobId, afterSlice, sink) {
      const seen = new Set();
      let job = { id: jobId };
      let done = false;
      let socket = null;
      let reconnects = 0;
      // Frames are handled one after the other: a result read over GraphQL stays before the STATUS after it.
      let queue = Promise.resolve();
      const finish = (then) => {
        if (done) return;
        done = true;
        socket?.close(1000);
        then();
      };
      const grow = (counts) => {
        job = { ...job };
        for (const k of ["completedSlices", "failedSlices", "totalSlices"]) job[k] = Math.max(job[k] ?? 0, counts[k]);
      };
      const emit = (result) => {
        if (seen.has(result.id)) return;
        seen.add(result.id);
        sink.next({ job, result });
      };
      const onFrame = async (frame) => {
        reconnects = 0;
        if (frame.kind === "ERROR") return finish(() => sink.error(new ApiError(frame.code, frame.message)));
        if (frame.kind === "SLICE_RESULT") {
          if (frame.progress) grow(frame.progress);
          if (seen.has(frame.result.id)) return;
          const result = frame.result.maskRle
            ? frame.result
            : (await storedResults(jobId, frame.result.sliceIndex - 1)).find((r) => r.id === frame.result.id);
          if (!result) throw new ApiError("NOT_FOUND", `result ${frame.result.id} is not stored`);
          return emit(result);
        }
        if (frame.kind !== "STATUS") return;
        grow(frame);
        job = { ...job, status: frame.status, errorCode: frame.errorCode };
        if (!TERMINAL.has(frame.status)) return sink.next({ job, result: null });
        if (seen.size < job.completedSlices) for (const r of await storedResults(jobId, afterSlice)) emit(r);
        sink.next({ job, result: null });
        finish(() => sink.complete());
      };
      const open = () => {
        const ws = (socket = new WebSocket(url));
        ws.onopen = () => ws.send(JSON.stringify({ action: "subscribe", jobId, afterSlice, apiKey }));
        ws.onmessage = (message) => {
          queue = queue.then(() => done || onFrame(JSON.parse(message.data))).catch((error) => finish(() => sink.error(error)));
        };
        ws.onclose = (event) => {
          queue = queue.then(() => {
            if (done || ws !== socket) return;
            if (reconnects++ < APIGW_RECONNECTS) return open();
            finish(() => sink.error(new Error(`the stream closed (${event.code})`)));
          });
        };
      };
      open();
      return () => finish(() => {});
    },
    dispose() {},
  };
}

/** No stream configured: the job's state and stored results, read once. */
function snapshotStream() {
  return {
    watch(jobId, afterSlice, sink) {
      let stopped = false;
      gql(`query Snapshot($id: ID!, $after: Int!) { segmentationJob(id: $id) { ${JOB_FIELDS} results(afterSlice: $after) { ${RESULT_FIELDS} } } }`,
        { id: jobId, after: afterSlice })
        .then((data) => {
          if (stopped) return;
          if (!data.segmentationJob) return sink.error(new ApiError("NOT_FOUND", "segmentation job not found"));
          const { results, ...job } = data.segmentationJob;
          sink.next({ job, result: null });
          for (const result of results) sink.next({ job, result });
          sink.complete();
        })
        .catch((error) => stopped || sink.error(error));
      return () => void (stopped = true);
    },
    dispose() {},
  };
}

/** The stream `config.stream` names (graphql-ws on this origin when its url is null). */
function createStream(stream, apiKey) {
  if (stream?.protocol === "apigw") return apigwStream(stream.url, apiKey);
  if (stream?.protocol === "graphql-ws") return graphqlWsStream(stream.url ?? `${location.protocol === "https:" ? "wss" : "ws"}://${location.host}/graphql`, apiKey);
  return snapshotStream();
}

/** GET of one of the server's binary routes with the API key; a failure throws its coded JSON error. */
async function getWithKey(path, what) {
  const res = await fetch(path, { headers: { "x-api-key": state.apiKey } });
  if (!res.ok) {
    const body = await res.json().catch(() => ({}));
    throw new ApiError(body.code ?? "HTTP_" + res.status, body.message ?? `${what} failed`);
  }
  return res;
}

async function loadPreview(slice, windowHU) {
  const query = windowHU ? `?window=${encodeURIComponent(`${windowHU[0]},${windowHU[1]}`)}` : "";
  return createImageBitmap(await (await getWithKey(`${slice.previewPath}${query}`, "preview")).blob());
}

/** The slice's reference mask as 0/1 per pixel when it is shown and fits the image, else null. */
function shownTruth(tile, width, height) {
  const truth = tile.slice.groundTruth;
  if (!$("show-truth").checked || !truth || truth.width !== width || truth.height !== height) return null;
  return decodeRle(truth.rle, width * height);
}

/** The slice, and over it the job's mask (cyan), or with the reference shown its agreement with it. */
function draw(tile) {
  const { canvas, bitmap, result } = tile;
  if (!bitmap) return;
  canvas.width = bitmap.width;
  canvas.height = bitmap.height;
  const ctx = canvas.getContext("2d", { willReadFrequently: true });
  ctx.drawImage(bitmap, 0, 0);
  const n = bitmap.width * bitmap.height;
  const mask = result && result.width === bitmap.width && result.height === bitmap.height ? decodeRle(result.maskRle, n) : new Uint8Array(n);
  const truth = shownTruth(tile, bitmap.width, bitmap.height);
  if (!truth && !mask.includes(1)) return;
  const img = ctx.getImageData(0, 0, canvas.width, canvas.height);
  for (let p = 0; p < n; p++) {
    const rgb = truth ? (mask[p] ? (truth[p] ? TRUTH_RGB.tp : TRUTH_RGB.fp) : truth[p] ? TRUTH_RGB.fn : null) : mask[p] ? MASK_RGB : null;
    if (!rgb) continue;
    for (let c = 0; c < 3; c++) img.data[p * 4 + c] = Math.round((1 - MASK_ALPHA) * img.data[p * 4 + c] + MASK_ALPHA * rgb[c]);
  }
  ctx.putImageData(img, 0, 0);
}

function caption(tile) {
  const { slice, result } = tile;
  const parts = [`#${slice.sliceIndex}`, slice.label ?? "unlabelled"];
  if ($("show-truth").checked && slice.groundTruth) parts.push(`reference ${truthArea(slice)} px`);
  if (result) {
    parts.push(`P ${result.pAbnormalBefore.toFixed(2)} → ${result.pAbnormalAfter.toFixed(2)}`, `${result.areaPx} px`);
  }
  tile.caption.textContent = parts.join(" · ");
  tile.figure.dataset.state = result ? "result" : "slice";
  tile.figure.dataset.maskArea = result ? String(result.areaPx) : "";
  tile.figure.dataset.flipped = result ? String(result.flipped) : "";
}

/** Foreground pixels of a slice's reference mask (odd runs). */
function truthArea(slice) {
  return slice.groundTruth.rle.reduce((sum, run, k) => (k % 2 === 1 ? sum + run : sum), 0);
}

/** The study's slices in order, at most MAX_SLICES of them, and how many it has. */
async function loadSlices(studyId) {
  const slices = [];
  let after = null;
  for (;;) {
    const data = await gql(
      `query Slices($id: ID!, $after: String) { study(id: $id) { slices(first: 100, after: $after) { totalCount
        edges { node { id seriesId sliceIndex width height label previewPath groundTruth { width height rle } } } pageInfo { hasNextPage endCursor } } } }`,
      { id: studyId, after },
    );
    const page = data.study.slices;
    slices.push(...page.edges.map((e) => e.node));
    if (!page.pageInfo.hasNextPage || slices.length >= MAX_SLICES) return { slices, total: page.totalCount };
    after = page.pageInfo.endCursor;
  }
}

/**
 * Fetches the previews not yet held in the current display window, a few requests in flight; stops
 * when the view changed. Switching jobs with the same window fetches nothing.
 */
async function loadPreviews(generation) {
  const windowHU = displayWindow();
  const key = String(windowHU);
  const queue = [...state.tiles.values()].filter((t) => t.bitmapWindow !== key);
  const worker = async () => {
    for (let tile = queue.shift(); tile; tile = queue.shift()) {
      if (generation !== state.generation) return;
      try {
        tile.bitmap = await loadPreview(tile.slice, windowHU);
        tile.bitmapWindow = key;
        if (generation === state.generation) draw(tile);
      } catch (error) {
        if (generation === state.generation) setStatus(`slice #${tile.slice.sliceIndex}: ${error.message}`, true);
      }
    }
  };
  await Promise.all(Array.from({ length: PREVIEW_CONCURRENCY }, worker));
}

function renderGrid(slices) {
  const grid = $("slices");
  grid.replaceChildren();
  state.tiles.clear();
  for (const slice of slices) {
    const figure = document.createElement("figure");
    figure.dataset.sliceIndex = String(slice.sliceIndex);
    const canvas = document.createElement("canvas");
    const cap = document.createElement("figcaption");
    figure.append(canvas, cap);
    grid.append(figure);
    const tile = { figure, canvas, caption: cap, slice, bitmap: null, bitmapWindow: null, result: null };
    state.tiles.set(slice.id, tile);
    caption(tile);
  }
}

function stopWatching() {
  state.stopWatching?.();
  state.stopWatching = null;
}

function renderJobs(jobs) {
  const list = $("jobs");
  list.replaceChildren();
  for (const job of jobs) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.jobId = job.id;
    button.textContent = `${job.method} · ${job.modelKey} · ${job.status} · ${job.completedSlices}/${job.totalSlices}`;
    button.setAttribute("aria-current", String(state.job?.id === job.id));
    button.addEventListener("click", () => void watchJob(job));
    li.append(button);
    list.append(li);
  }
}

function jobSummary(job) {
  const failed = job.failedSlices ? `, ${job.failedSlices} failed` : "";
  const code = job.errorCode ? ` (${job.errorCode})` : "";
  const e = job.evaluation;
  const score = e?.pooledIoU != null
    ? `; against the reference: pooled IoU ${e.pooledIoU.toFixed(3)}, Dice ${e.pooledDice.toFixed(3)} (${e.positiveSlices} slices; ${e.falsePositiveSlices} false alarms)`
    : "";
  $("job-summary").textContent = `${job.method} on ${job.modelKey}: ${job.status}${code}, ${job.completedSlices} of ${job.totalSlices} slices${failed}${score}`;
  $("job-summary").dataset.status = job.status;
  $("cancel").hidden = TERMINAL.has(job.status);
  $("download-masks").hidden = !job.masksPath;
}

/**
 * Saves the open job's masks as a NIfTI label volume (GET masksPath with the key, then a download of
 * the bytes: a plain link could not send the key). One series per volume: the first slice's.
 */
async function downloadMasks() {
  const job = state.job;
  if (!job?.masksPath) return;
  const series = [...state.tiles.values()][0]?.slice.seriesId;
  try {
    const res = await getWithKey(`${job.masksPath}${series ? `?series=${encodeURIComponent(series)}` : ""}`, "download");
    const name = /filename="([^"]+)"/.exec(res.headers.get("content-disposition") ?? "")?.[1] ?? `job-${job.id}-masks.nii.gz`;
    const url = URL.createObjectURL(await res.blob());
    const a = document.createElement("a");
    a.href = url;
    a.download = name;
    a.click();
    setTimeout(() => URL.revokeObjectURL(url), 60_000);
    setStatus(`saved ${name} (${res.headers.get("x-coinseg-result-slices")} slices with a result)`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function cancelJob() {
  if (!state.job) return;
  try {
    await gql(`mutation Cancel($id: ID!) { cancelSegmentationJob(input: { id: $id }) { job { id status } } }`, { id: state.job.id });
    setStatus(`job ${state.job.id} cancelled`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

/** Re-draws every slice in the window now picked (a job's masks stay). */
async function changeWindow() {
  await loadPreviews(state.generation);
}

/** Streams a job's state and results (stored ones first, then live) onto the grid. */
async function watchJob(job) {
  stopWatching();
  state.job = job;
  const generation = ++state.generation;
  for (const tile of state.tiles.values()) {
    tile.result = null;
    caption(tile);
    draw(tile);
  }
  document.querySelectorAll("#jobs button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.jobId === job.id)));
  jobSummary(job);
  const previews = loadPreviews(generation);
  state.stopWatching = state.stream.watch(job.id, -1, {
    next: (update) => {
      if (generation !== state.generation) return;
      // An API Gateway update carries only the job's status and counts: keep the rest.
      state.job = { ...state.job, ...update.job };
      jobSummary(state.job);
      const tile = update.result && state.tiles.get(update.result.sliceId);
      if (tile) {
        tile.result = update.result;
        caption(tile);
        draw(tile);
      }
    },
    error: (error) => generation === state.generation
      && setStatus(error instanceof ApiError ? error.message : `stream: ${error?.message ?? error?.reason ?? "closed"}`, true),
    complete: () => void (generation === state.generation && Promise.all([refreshJobs(), showEvaluation(generation)])),
  });
  await previews;
}

/** Once the stream of a finished job ends: its score against the reference masks, in the summary. */
async function showEvaluation(generation) {
  if (!state.job || !TERMINAL.has(state.job.status)) return;
  try {
    const data = await gql(`query Evaluation($id: ID!) { segmentationJob(id: $id) { ${JOB_FIELDS} ${EVALUATION_FIELDS} } }`, { id: state.job.id });
    if (generation !== state.generation || !data.segmentationJob) return;
    state.job = data.segmentationJob;
    jobSummary(state.job);
  } catch (error) {
    setStatus(error.message, true);
  }
}

/** Re-draws every slice with or without its reference mask. */
function toggleTruth() {
  for (const tile of state.tiles.values()) {
    caption(tile);
    draw(tile);
  }
}

async function refreshJobs() {
  if (!state.study) return [];
  const data = await gql(
    `query Jobs($id: ID!) { study(id: $id) { segmentationJobs { ${JOB_FIELDS} } } }`,
    { id: state.study.id },
  );
  renderJobs(data.study.segmentationJobs);
  return data.study.segmentationJobs;
}

async function openStudy(study) {
  stopWatching();
  state.study = study;
  state.job = null;
  const generation = ++state.generation;
  document.querySelectorAll("#studies button").forEach((b) => b.setAttribute("aria-current", String(b.dataset.studyId === study.id)));
  $("study").hidden = false;
  $("study-title").textContent = study.title;
  $("job-summary").textContent = "";
  $("cancel").hidden = true;
  $("download-masks").hidden = true;
  setStatus("loading slices…");
  const { slices, total } = await loadSlices(study.id);
  if (generation !== state.generation) return;
  renderGrid(slices);
  const withTruth = slices.filter((s) => s.groundTruth).length;
  $("show-truth").disabled = withTruth === 0;
  $("show-truth").parentElement.title = withTruth ? `${withTruth} slices have a reference mask (importGroundTruth)` : "no reference masks in this study";
  const jobs = await refreshJobs();
  if (generation !== state.generation) return;
  setStatus(slices.length < total ? `the first ${slices.length} of ${total} slices` : `${slices.length} slices`);
  // The newest job, if any, with its masks; otherwise the slices in the classifier's window.
  if (jobs.length) await watchJob(jobs[0]);
  else await loadPreviews(generation);
}

const KIND_OF_METHOD = { COIN: "COIN_GENERATOR", SINGLA: "SINGLA_GENERATOR", LAYER_CAM: "CLASSIFIER", SCORE_CAM: "CLASSIFIER", RISE: "CLASSIFIER" };

function renderModelChoices() {
  const kind = KIND_OF_METHOD[$("method").value];
  const select = $("model");
  select.replaceChildren();
  for (const m of state.models.filter((x) => x.kind === kind)) {
    const option = document.createElement("option");
    option.value = m.key;
    option.textContent = m.key;
    select.append(option);
  }
  $("refine").disabled = kind === "CLASSIFIER";
}

async function requestSegmentation(event) {
  event.preventDefault();
  if (!state.study) return;
  const method = $("method").value;
  const params = { forceSegmentation: $("force").checked };
  if (!$("refine").disabled && $("refine").checked) params.refine = true;
  try {
    const data = await gql(
      `mutation Segment($input: RequestSegmentationInput!) { requestSegmentation(input: $input) {
        job { ${JOB_FIELDS} } } }`,
      { input: { studyId: state.study.id, method, modelKey: $("model").value || null, params } },
    );
    setStatus(`job ${data.requestSegmentation.job.id} queued`);
    state.job = data.requestSegmentation.job;
    await refreshJobs();
    await watchJob(data.requestSegmentation.job);
  } catch (error) {
    setStatus(error.message, true);
  }
}

const STUDY_FIELDS = "edges { node { id title status } } pageInfo { hasNextPage endCursor }";

/** Appends one page of studies to the list; the "more" button then fetches the page after it. */
function appendStudies(page) {
  const list = $("studies");
  for (const { node } of page.edges) {
    const li = document.createElement("li");
    const button = document.createElement("button");
    button.type = "button";
    button.dataset.studyId = node.id;
    button.textContent = `${node.title} (${node.status})`;
    button.addEventListener("click", () => openStudy(node).catch((e) => setStatus(e.message, true)));
    li.append(button);
    list.append(li);
  }
  state.studiesAfter = page.pageInfo.hasNextPage ? page.pageInfo.endCursor : null;
  $("more-studies").hidden = state.studiesAfter === null;
  return list.children.length;
}

const studiesNote = (shown) => `${shown} studies${state.studiesAfter === null ? "" : " (more to load)"}`;

async function moreStudies() {
  try {
    const data = await gql(`query MoreStudies($after: String) { studies(first: ${STUDY_PAGE}, after: $after) { ${STUDY_FIELDS} } }`,
      { after: state.studiesAfter });
    const shown = appendStudies(data.studies);
    setStatus(studiesNote(shown));
  } catch (error) {
    setStatus(error.message, true);
  }
}

async function connect(apiKey) {
  state.apiKey = apiKey;
  setStatus("connecting…");
  try {
    const [data, config] = await Promise.all([gql(`query Start { viewer { role } models { key kind spec }
      studies(first: ${STUDY_PAGE}) { ${STUDY_FIELDS} } }`), loadConfig()]);
    sessionStorage.setItem(KEY_STORAGE, apiKey);
    state.models = data.models;
    state.stream?.dispose();
    state.stream = createStream(config.stream, apiKey);
    renderModelChoices();
    $("studies").replaceChildren();
    const shown = appendStudies(data.studies);
    document.querySelector("main").hidden = false;
    $("disconnect").hidden = false;
    setStatus(`connected (${data.viewer.role}): ${studiesNote(shown)}`);
  } catch (error) {
    setStatus(error.message, true);
  }
}

function disconnect() {
  stopWatching();
  state.stream?.dispose();
  Object.assign(state, { apiKey: "", stream: null, study: null, job: null, models: [], studiesAfter: null });
  state.generation++;
  sessionStorage.removeItem(KEY_STORAGE);
  document.querySelector("main").hidden = true;
  $("disconnect").hidden = true;
  $("api-key").value = "";
  setStatus("disconnected");
}

$("connect").addEventListener("submit", (event) => {
  event.preventDefault();
  void connect($("api-key").value.trim());
});
$("disconnect").addEventListener("click", disconnect);
$("more-studies").addEventListener("click", () => void moreStudies());
$("method").addEventListener("change", renderModelChoices);
$("window").addEventListener("change", () => void changeWindow());
$("show-truth").addEventListener("change", toggleTruth);
$("download-masks").addEventListener("click", () => void downloadMasks());
$("cancel").addEventListener("click", () => void cancelJob());
$("segment").addEventListener("submit", (event) => void requestSegmentation(event));
const saved = sessionStorage.getItem(KEY_STORAGE);
if (saved) void connect(saved);
