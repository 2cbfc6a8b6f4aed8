// Benchmark: DICOM and NIfTI decode throughput (MB/s of input) on a 512 × 512 × 64 CT-like volume.
// Run: npx tsx bench/imaging-decode.ts [--slices 64] [--reps 5]. Prints a table, writes bench/results/imaging-decode.json.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { Prng } from "../imaging/random/prng.ts";
import { decodeDicomSeries } from "../imaging/dicom/decode-dicom-series.ts";
import { writeDicomSeries } from "../imaging/dicom/dicom-series-writer.ts";
import { TRANSFER_SYNTAX } from "../imaging/dicom/transfer-syntax.ts";
import { decodeNifti } from "../imaging/nifti/nifti-decoder.ts";
import { writeNifti } from "../imaging/nifti/nifti-writer.ts";
import type { Volume } from "../imaging/volume.ts";

const args = process.argv.slice(2);
const arg = (name: string, fallback: number): number => {
  const at = args.indexOf(`--${name}`);
  return at >= 0 ? Number(args[at + 1]) : fallback;
};
const NX = 512;
const NY = 512;
const NZ = arg("slices", 64);
const REPS = arg("reps", 5);

/** A CT-like volume: an ellipse of soft tissue in air with noise, so gzip ratios are realistic. */
function ctLike(): Volume<Int16Array> {
  const rng = new Prng(7);
  const data = new Int16Array(NX * NY * NZ);
  for (let k = 0; k < NZ; k++) {
    for (let j = 0; j < NY; j++) {
      for (let i = 0; i < NX; i++) {
        const x = (i - NX / 2) / (NX * 0.42);
        const y = (j - NY / 2) / (NY * 0.32);
        const inside = x * x + y * y < 1;
        data[i + j * NX + k * NX * NY] = Math.round((inside ? 40 : -1000) + rng.normal() * 12);
      }
    }
  }
  return {
    dimsIJK: [NX, NY, NZ],
    spacingMm: [0.78, 0.78, 2.5],
    originLPS: [-200, -200, 0],
    directionLPS: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
    unit: "HU",
    data,
  };
}

interface Row {
  readonly case: string;
  readonly inputMB: number;
  readonly medianMs: number;
  readonly inputMBps: number;
  readonly voxelsMps: number;
}

function bench(name: string, inputBytes: number, voxels: number, run: () => unknown): Row {
  run(); // warm-up
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  const medianMs = times[Math.floor(times.length / 2)]!;
  const inputMB = inputBytes / 1e6;
  return { case: name, inputMB: round(inputMB), medianMs: round(medianMs), inputMBps: round(inputMB / (medianMs / 1000)), voxelsMps: round(voxels / 1e6 / (medianMs / 1000)) };
}

function round(x: number): number {
  return Math.round(x * 100) / 100;
}

const volume = ctLike();
const voxels = NX * NY * NZ;
const bytes = (files: Uint8Array[]): number => files.reduce((s, f) => s + f.byteLength, 0);
const rows: Row[] = [];
for (const [label, ts] of [
  ["DICOM explicit VR LE, per slice", TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN],
  ["DICOM implicit VR LE, per slice", TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN],
  ["DICOM explicit VR BE, per slice", TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN],
] as const) {
  const files = writeDicomSeries(volume, { transferSyntaxUID: ts });
  rows.push(bench(label, bytes(files), voxels, () => decodeDicomSeries(files)));
}
const multi = writeDicomSeries(volume, { multiFrame: true });
rows.push(bench("DICOM explicit VR LE, multi-frame", bytes(multi), voxels, () => decodeDicomSeries(multi)));
const rescaled = writeDicomSeries(volume, { rescaleSlope: 0.5, rescaleIntercept: -1024 });
rows.push(bench("DICOM explicit VR LE, slope 0.5 (float32)", bytes(rescaled), voxels, () => decodeDicomSeries(rescaled)));
const nii = writeNifti(volume, { gzip: false });
rows.push(bench("NIfTI-1 .nii int16", nii.byteLength, voxels, () => decodeNifti(nii)));
const niigz = writeNifti(volume, { gzip: true });
rows.push(bench("NIfTI-1 .nii.gz int16", niigz.byteLength, voxels, () => decodeNifti(niigz)));

console.log(`imaging decode, ${NX}×${NY}×${NZ} int16 (${((voxels * 2) / 1e6).toFixed(1)} MB of voxels), median of ${REPS}, node ${process.version}`);
console.log(["case".padEnd(44), "input MB".padStart(9), "ms".padStart(9), "MB/s".padStart(9), "Mvox/s".padStart(9)].join(" "));
for (const r of rows) {
  console.log([r.case.padEnd(44), r.inputMB.toFixed(2).padStart(9), r.medianMs.toFixed(1).padStart(9), r.inputMBps.toFixed(1).padStart(9), r.voxelsMps.toFixed(1).padStart(9)].join(" "));
}
const out = new URL("./results/imaging-decode.json", import.meta.url);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  out,
  `${JSON.stringify(
    {
      benchmark: "imaging-decode",
      dimsIJK: [NX, NY, NZ],
      reps: REPS,
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      loadAverage1m: round(os.loadavg()[0]!),
      note: "MB/s is input bytes (file size, gzip size for .nii.gz) per second; median wall time per decode",
      rows,
    },
    null,
    2,
  )}\n`,
);
console.log(`wrote ${out.pathname}`);
