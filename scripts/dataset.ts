// CLI: writes a benchmark (NIfTI volumes, label maps, manifest, card) or a preview contact sheet.
// Usage: npm run dataset -- --benchmark kidney-blob [--out data/kidney-blob] [--scans 150] [--seed N] [--size 256] [--slices 56]
//        (--seed defaults to the seed the committed models were trained on: kidney-blob 7, kidney-lesion 11)
//        npm run dataset -- --preview [--out docs/phantom-preview.png]
//        npm run dataset -- --benchmark kidney-lesion --dicom --out <dir> [--scan 0]   (one scan as a DICOM CT series)
import { mkdirSync, writeFileSync } from "node:fs";
import { join } from "node:path";
import { parseArgs } from "node:util";
import { PNG } from "pngjs";
import { writeNifti } from "../imaging/nifti/nifti-writer.ts";
import { writeDicomSeries } from "../imaging/dicom/dicom-series-writer.ts";
import { Prng } from "../imaging/random/prng.ts";
import { BENCHMARKS, generateBenchmarkScan, type BenchmarkName } from "../imaging/phantom/benchmark-scan.ts";
import { chooseWindow } from "../imaging/phantom/benchmark-window.ts";
import { PAPER_BLOB_RECIPE } from "../imaging/phantom/blob-template.ts";
import { DEFAULT_PHANTOM_GEOMETRY } from "../imaging/phantom/abdomen-phantom.ts";
import { renderContactSheet, type ContactTile } from "../imaging/phantom/contact-sheet.ts";
import type { Volume } from "../imaging/volume.ts";

const GENERATOR_VERSION = 1;
const { values } = parseArgs({
  options: {
    benchmark: { type: "string", default: "kidney-blob" },
    out: { type: "string" },
    scans: { type: "string", default: "150" },
    seed: { type: "string" },
    preview: { type: "boolean", default: false },
    dicom: { type: "boolean", default: false },
    scan: { type: "string", default: "0" },
    // A smaller grid over the same field of view (for tests and quick looks; the benchmarks use the defaults).
    size: { type: "string" },
    slices: { type: "string" },
  },
});

function fail(message: string): never {
  console.error(`error: ${message}`);
  process.exit(2);
}

const benchmark = values.benchmark as BenchmarkName;
if (!BENCHMARKS.includes(benchmark)) fail(`--benchmark must be one of ${BENCHMARKS.join(", ")}`);
const scans = Number(values.scans);
/** The seed of each benchmark the committed models (models/<benchmark>-*) were trained and evaluated on. */
const DEFAULT_SEED: Record<BenchmarkName, number> = { "kidney-blob": 7, "kidney-lesion": 11 };
const seed = values.seed === undefined ? DEFAULT_SEED[benchmark] : Number(values.seed);
if (!Number.isInteger(scans) || scans < 3 || scans > 5000) fail("--scans must be an integer in 3..5000");
if (!Number.isInteger(seed)) fail("--seed must be an integer");
const size = values.size === undefined ? DEFAULT_PHANTOM_GEOMETRY.width : Number(values.size);
const slicesPerScan = values.slices === undefined ? DEFAULT_PHANTOM_GEOMETRY.slices : Number(values.slices);
if (!Number.isInteger(size) || size < 32 || size > 1024) fail("--size must be an integer in 32..1024");
if (!Number.isInteger(slicesPerScan) || slicesPerScan < 4 || slicesPerScan > 512) fail("--slices must be an integer in 4..512");
// Same field of view and z extent as the default geometry, so the anatomy (in mm) is unchanged.
const geometry =
  size === DEFAULT_PHANTOM_GEOMETRY.width && slicesPerScan === DEFAULT_PHANTOM_GEOMETRY.slices
    ? DEFAULT_PHANTOM_GEOMETRY
    : {
        width: size,
        height: size,
        slices: slicesPerScan,
        pixelMm: (DEFAULT_PHANTOM_GEOMETRY.pixelMm * DEFAULT_PHANTOM_GEOMETRY.width) / size,
        sliceMm: (DEFAULT_PHANTOM_GEOMETRY.sliceMm * DEFAULT_PHANTOM_GEOMETRY.slices) / slicesPerScan,
      };
// Area thresholds are defined in native pixels of the default 1.5 mm grid (250 px ≈ 560 mm²); on
// another grid they keep the same area in mm².
const pixelAreaScale = (DEFAULT_PHANTOM_GEOMETRY.pixelMm / geometry.pixelMm) ** 2;
const minKidneyAreaPx = Math.max(1, Math.round(100 * pixelAreaScale));
const abnormalAreaThresholdPx = Math.max(1, Math.round(250 * pixelAreaScale));
const lesionProbability = 0.75;

if (values.preview) {
  const tiles: ContactTile[] = [];
  const n = geometry.width * geometry.height;
  for (const b of BENCHMARKS) {
    for (let s = 0; s < 4; s++) {
      const scan = generateBenchmarkScan(s, { benchmark: b, seed, windowHU: [60, 300] });
      const abnormal = scan.slices.filter((x) => x.label === 1);
      const pick = abnormal[Math.floor(abnormal.length / 2)] ?? scan.slices[Math.floor(scan.slices.length / 2)]!;
      const k = pick.sliceIndex;
      tiles.push({ hu: scan.volumeHU.subarray(k * n, (k + 1) * n), labels: scan.labels.subarray(k * n, (k + 1) * n) });
    }
  }
  const sheet = renderContactSheet(tiles, geometry.width, geometry.height, 4);
  const png = new PNG({ width: sheet.width, height: sheet.height });
  png.data = Buffer.from(sheet.rgba);
  const out = values.out ?? "docs/phantom-preview.png";
  writeFileSync(out, PNG.sync.write(png));
  console.log(`wrote ${out}: top row kidney-blob, bottom row kidney-lesion (window [-160, 240] HU; green kidney, red target)`);
  process.exit(0);
}

const originLPS = [(-(geometry.width - 1) / 2) * geometry.pixelMm, (-(geometry.height - 1) / 2) * geometry.pixelMm, 0] as const;
const directionLPS = [[1, 0, 0], [0, 1, 0], [0, 0, 1]] as const;
const spacingMm = [geometry.pixelMm, geometry.pixelMm, geometry.sliceMm] as const;
const dimsIJK = [geometry.width, geometry.height, geometry.slices] as const;

if (values.dicom) {
  // The same phantom through the DICOM path, for ingest tests and demos (window: a soft-tissue default).
  const index = Number(values.scan);
  if (!Number.isInteger(index) || index < 0) fail("--scan must be a non-negative integer");
  const out = values.out ?? join("data", `${benchmark}-dicom`);
  mkdirSync(out, { recursive: true });
  const scan = generateBenchmarkScan(index, { benchmark, seed, geometry, windowHU: [49, 255] });
  const files = writeDicomSeries(
    { dimsIJK, spacingMm, originLPS, directionLPS, unit: "HU", data: scan.volumeHU },
    { uidSeed: `coinseg-${benchmark}-${seed}-${index}` },
  );
  files.forEach((bytes, k) => writeFileSync(join(out, `slice-${String(k).padStart(4, "0")}.dcm`), bytes));
  console.log(`wrote ${files.length} DICOM files of scan ${index} to ${out}`);
  process.exit(0);
}

const out = values.out ?? join("data", benchmark);
for (const sub of ["volumes", "clean", "labels"]) mkdirSync(join(out, sub), { recursive: true });

// Scan-level splits, 70 / 15 / 15, from the seed.
const order = new Prng(seed, 0x5eed).shuffle(Array.from({ length: scans }, (_, i) => i));
const nTest = Math.max(1, Math.round(scans * 0.15));
const nVal = Math.max(1, Math.round(scans * 0.15));
const split = new Map<number, "train" | "val" | "test">();
order.forEach((s, rank) => split.set(s, rank < nTest ? "test" : rank < nTest + nVal ? "val" : "train"));
const scanId = (s: number): string => `${benchmark}-${String(s).padStart(4, "0")}`;

const started = performance.now();
const trainScans = order.filter((s) => split.get(s) === "train");
const scanOptions = { benchmark, seed, geometry, minKidneyAreaPx, abnormalAreaThresholdPx, lesionProbability };
const window = chooseWindow(trainScans.slice(0, 12), scanOptions);
console.log(
  `window ${JSON.stringify(window.windowHU)} HU (kidney percentiles ${JSON.stringify(window.percentileWindowHU)}, ` +
    `widened ${window.widenings}×${window.oracleIoU !== undefined ? `, native oracle IoU ${window.oracleIoU.toFixed(3)}` : ""})`,
);

const rows: string[] = ["scanId,split,sliceIndex,label,targetAreaPx,kidneyAreaPx"];
const counts = { slices: 0, abnormal: 0, perSplit: { train: [0, 0], val: [0, 0], test: [0, 0] } as Record<string, [number, number]> };
for (let s = 0; s < scans; s++) {
  const scan = generateBenchmarkScan(s, { ...scanOptions, windowHU: window.windowHU });
  const id = scanId(s);
  const base = { dimsIJK, spacingMm, originLPS, directionLPS };
  const write = (sub: string, volume: Volume, intentCode = 0): void =>
    writeFileSync(join(out, sub, `${id}.nii.gz`), writeNifti(volume, { gzipLevel: 1, intentCode, description: `coinseg ${benchmark} v${GENERATOR_VERSION}` }));
  write("volumes", { ...base, unit: "HU", data: scan.volumeHU });
  write("clean", { ...base, unit: "HU", data: scan.cleanHU });
  write("labels", { ...base, unit: "label", data: scan.labels }, 1002);
  const sp = split.get(s)!;
  for (const sl of scan.slices) {
    rows.push(`${id},${sp},${sl.sliceIndex},${sl.label},${sl.targetAreaPx},${sl.kidneyAreaPx}`);
    counts.slices++;
    counts.abnormal += sl.label;
    counts.perSplit[sp]![0]++;
    counts.perSplit[sp]![1] += sl.label;
  }
  if ((s + 1) % 10 === 0 || s === scans - 1) {
    const elapsed = (performance.now() - started) / 1000;
    process.stdout.write(`\r${s + 1}/${scans} scans, ${counts.slices} slices, ${elapsed.toFixed(0)} s`);
  }
}
process.stdout.write("\n");
writeFileSync(join(out, "manifest.csv"), rows.join("\n") + "\n");
const card = {
  benchmark,
  generatorVersion: GENERATOR_VERSION,
  seed,
  scans,
  sizeIJK: [geometry.width, geometry.height],
  slicesPerScan: geometry.slices,
  spacingMm,
  windowHU: window.windowHU,
  windowChoice: window,
  splits: {
    train: order.filter((s) => split.get(s) === "train").sort((a, b) => a - b).map(scanId),
    val: order.filter((s) => split.get(s) === "val").sort((a, b) => a - b).map(scanId),
    test: order.filter((s) => split.get(s) === "test").sort((a, b) => a - b).map(scanId),
  },
  counts: {
    slices: counts.slices,
    abnormal: counts.abnormal,
    perSplit: Object.fromEntries(Object.entries(counts.perSplit).map(([k, [n, a]]) => [k, { slices: n, abnormal: a }])),
  },
  ...(benchmark === "kidney-blob" ? { blob: PAPER_BLOB_RECIPE } : { abnormalAreaThresholdPx, lesionProbability }),
  minKidneyAreaPx,
};
// No timings in the card: it is a function of (benchmark, scans, seed, geometry, generator version) only.
writeFileSync(join(out, "dataset.json"), JSON.stringify(card, null, 2) + "\n");
const seconds = Math.round((performance.now() - started) / 1000);
console.log(`wrote ${out}: ${counts.slices} slices (${counts.abnormal} abnormal) from ${scans} scans in ${seconds} s`);
