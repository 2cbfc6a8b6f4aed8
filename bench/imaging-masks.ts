// Benchmark: RLE encode/decode throughput, preprocessing throughput (512² → 256²) and clean-up latency on 512 × 512 slices.
// Run: npx tsx bench/imaging-masks.ts [--reps 20]. Prints a table, writes bench/results/imaging-masks.json.
import { mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import { Prng } from "../imaging/random/prng.ts";
import { decodeRle, encodeRle } from "../imaging/mask/rle.ts";
import { cleanUpMask } from "../imaging/mask/clean-up-mask.ts";
import { refineMask } from "../imaging/mask/refine-mask.ts";
import { thresholdMap } from "../imaging/mask/threshold-map.ts";
import type { BinaryMask } from "../imaging/mask/binary-mask.ts";
import { preprocessSlices } from "../imaging/preprocess/preprocess-slices.ts";
import { parsePreprocessSpec } from "../imaging/preprocess/preprocess-spec.ts";
import { maskToNative } from "../imaging/preprocess/mask-to-native.ts";
import { mapToNativeMask } from "../imaging/mask/map-to-native-mask.ts";

const args = process.argv.slice(2);
const at = args.indexOf("--reps");
const REPS = at >= 0 ? Number(args[at + 1]) : 20;
const N = 512;

/** A lesion-like mask: one disc of radius 40 px plus (optionally) a fraction of random specks. */
function mask(speckFraction: number, seed: number): BinaryMask {
  const rng = new Prng(seed);
  const data = new Uint8Array(N * N);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < N; c++) {
      const inside = (r - 300) ** 2 + (c - 200) ** 2 < 40 ** 2;
      data[r * N + c] = inside || rng.uniform(0, 1) < speckFraction ? 1 : 0;
    }
  }
  return { width: N, height: N, data };
}

/** A CT-like slice in HU: soft-tissue ellipse in air with noise. */
function slice(): { width: number; height: number; data: Int16Array } {
  const rng = new Prng(3);
  const data = new Int16Array(N * N);
  for (let r = 0; r < N; r++) {
    for (let c = 0; c < N; c++) {
      const x = (c - N / 2) / (N * 0.42);
      const y = (r - N / 2) / (N * 0.32);
      data[r * N + c] = Math.round((x * x + y * y < 1 ? 40 : -1000) + rng.normal() * 12);
    }
  }
  return { width: N, height: N, data };
}

interface Row {
  readonly case: string;
  readonly medianMs: number;
  /** Mask megabytes (1 byte per pixel, 10^6 bytes) per second, for the RLE rows. */
  readonly maskMBps?: number;
  readonly rleChars?: number;
  /** Preprocessing rows: input HU megabytes (the slice's int16 voxels, 10^6 bytes) per second. */
  readonly inputMBps?: number;
}

function median(run: () => unknown): number {
  for (let w = 0; w < 5; w++) run(); // warm-up (JIT)
  const times: number[] = [];
  for (let r = 0; r < REPS; r++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)]!;
}

const round = (x: number, d = 3): number => Number(x.toFixed(d));
const rows: Row[] = [];
for (const [name, m] of [
  ["disc r=40", mask(0, 1)],
  ["disc + 1% specks", mask(0.01, 2)],
  ["disc + 20% specks", mask(0.2, 3)],
] as const) {
  const encoded = encodeRle(m);
  const mb = (N * N) / 1e6;
  const encMs = median(() => encodeRle(m));
  const decMs = median(() => decodeRle(encoded));
  rows.push({ case: `RLE encode 512², ${name}`, medianMs: round(encMs), maskMBps: round(mb / (encMs / 1000), 1), rleChars: encoded.length });
  rows.push({ case: `RLE decode 512², ${name}`, medianMs: round(decMs), maskMBps: round(mb / (decMs / 1000), 1), rleChars: encoded.length });
}

const spec = parsePreprocessSpec({ windowHU: [-160, 340], size: [256, 256] });
const ct = slice();
const sliceMB = ct.data.byteLength / 1e6;
const preprocessRow = (name: string, msPerSlice: number): Row => ({ case: name, medianMs: round(msPerSlice), inputMBps: round(sliceMB / (msPerSlice / 1000), 1) });
rows.push(preprocessRow("preprocess 512² HU → 1×1×256×256", median(() => preprocessSlices([ct], spec))));
const batch16 = Array.from({ length: 16 }, () => ct);
rows.push(preprocessRow("preprocess 16 × 512² → 16×1×256×256 (per slice)", median(() => preprocessSlices(batch16, spec)) / 16));
const small = mask(0.01, 4);
const model = maskToNative(small, 256, 256);
rows.push({ case: "mask 256² → native 512² (nearest)", medianMs: round(median(() => maskToNative(model, N, N))) });
// The service's path since 2026-12-03: the model-size map upsampled bilinearly, thresholded on the native grid.
// Only native pixels near model pixels above the threshold are interpolated: a disc alone (a typical
// COIN result) is cheap; the 1 % specks above spread over the whole slice (the worst case).
const discMap = { width: 256, height: 256, data: Float32Array.from(maskToNative(mask(0, 4), 256, 256).data, (v, p) => v * 0.5 + (p % 7) * 0.01) };
const speckMap = { width: 256, height: 256, data: Float32Array.from(model.data, (v, p) => v * 0.5 + (p % 7) * 0.01) };
rows.push({ case: "map 256² → native 512² mask, disc (bilinear + threshold)", medianMs: round(median(() => mapToNativeMask(discMap, N, N, 0.25))) });
rows.push({ case: "map 256² → native 512² mask, disc + 1% specks", medianMs: round(median(() => mapToNativeMask(speckMap, N, N, 0.25))) });
rows.push({ case: "cleanUpMask 256² (open, close, largest component)", medianMs: round(median(() => cleanUpMask(model))) });
// params.refine: hysteresis from 0.25 down to a lower threshold, then the largest region — at model
// size on the disc + specks map, and on the native grid (two thresholded upsamplings + the refinement).
rows.push({
  case: "refineMask 256², disc + 1% specks (hysteresis 0.25 → 0.17, largest component)",
  medianMs: round(median(() => refineMask(thresholdMap(speckMap.data, 256, 256, 0.25), thresholdMap(speckMap.data, 256, 256, 0.17)))),
});
rows.push({
  case: "refined native 512² mask, disc + 1% specks (2 × map → native, refineMask)",
  medianMs: round(median(() => refineMask(mapToNativeMask(speckMap, N, N, 0.25), mapToNativeMask(speckMap, N, N, 0.17)))),
});

console.log(`imaging-masks: median of ${REPS} runs, node ${process.version}, ${os.cpus().length} CPUs, load ${os.loadavg()[0]!.toFixed(2)}`);
console.table(rows);
mkdirSync(new URL("./results/", import.meta.url), { recursive: true });
writeFileSync(
  new URL("./results/imaging-masks.json", import.meta.url),
  `${JSON.stringify(
    {
      benchmark: "imaging-masks",
      reps: REPS,
      node: process.version,
      cpu: os.cpus()[0]?.model ?? "unknown",
      cpus: os.cpus().length,
      loadAverage1m: round(os.loadavg()[0]!, 2),
      note: "maskMBps = mask pixels (1 byte each, 1 MB = 10^6 bytes) per second; inputMBps = the 512² int16 HU slice's bytes (0.524 MB) per second of preprocessing; medianMs = median wall time per call",
      rows,
    },
    null,
    2,
  )}\n`,
);
