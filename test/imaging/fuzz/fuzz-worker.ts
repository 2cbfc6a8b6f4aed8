// Worker side of the decoder fuzz test: mutates seed files of one format and decodes each, reporting
// progress per case so the parent can detect a hang and kill this thread.
import { parentPort, workerData } from "node:worker_threads";
import { gzipSync } from "node:zlib";
import { PNG } from "pngjs";
import { Prng } from "../../../imaging/random/prng.ts";
import { decodeVolume } from "../../../imaging/decode/decode-volume.ts";
import { IMAGING_ERROR_CODES, ImagingError } from "../../../imaging/errors/imaging-error.ts";
import { writeDicomSeries } from "../../../imaging/dicom/dicom-series-writer.ts";
import { TRANSFER_SYNTAX } from "../../../imaging/dicom/transfer-syntax.ts";
import { writeNifti } from "../../../imaging/nifti/nifti-writer.ts";
import type { Volume } from "../../../imaging/volume.ts";
import { indexVolume } from "../decoders/fixtures.ts";
import { buildNifti2 } from "../decoders/nifti2-fixture.ts";

/** What the parent sends. */
export interface FuzzJob {
  readonly format: "dicom" | "nifti" | "png";
  readonly seed: number;
  readonly cases: number;
}

/** What the worker reports at the end. */
export interface FuzzReport {
  readonly cases: number;
  readonly volumes: number;
  readonly codes: Record<string, number>;
  readonly failures: string[];
  readonly maxCaseMs: number;
}

const LIMITS = { maxBytes: 1 << 22, maxVoxels: 1 << 20, maxSlices: 64 };
const KNOWN_CODES = new Set<string>(Object.values(IMAGING_ERROR_CODES));

/** Unmutated inputs per format; each is a list of files decoded together. */
function seedInputs(format: FuzzJob["format"]): { files: Uint8Array[]; gzip?: boolean }[] {
  const v = indexVolume([6, 5, 3]);
  if (format === "dicom") {
    const out: { files: Uint8Array[] }[] = [];
    for (const ts of [TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN, TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN, TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN] as const) {
      out.push({ files: writeDicomSeries(v, { transferSyntaxUID: ts }) });
      out.push({ files: writeDicomSeries(v, { transferSyntaxUID: ts, framing: "bare" }) });
      out.push({ files: writeDicomSeries(v, { transferSyntaxUID: ts, multiFrame: true }) });
    }
    return out;
  }
  if (format === "nifti") {
    const raw = writeNifti(v, { gzip: false });
    const values = new Uint8Array(6 * 5 * 3 * 4);
    const n2 = (littleEndian: boolean): Uint8Array =>
      buildNifti2({ dims: [3, 6, 5, 3, 1, 1, 1, 1], datatype: 16, bitpix: 32, data: values, affineRAS: [[-1, 0, 0, 1], [0, -1, 0, 2], [0, 0, 2, 3]], littleEndian });
    // gzip: true means the mutation is applied before compressing, so it reaches the header parser.
    return [{ files: [raw] }, { files: [raw], gzip: true }, { files: [writeNifti(v, { gzip: true })] }, { files: [n2(true)] }, { files: [n2(false)], gzip: true }];
  }
  const grey = (bitDepth: 8 | 16): Uint8Array => {
    const png = new PNG({ width: 7, height: 5, bitDepth, colorType: 0, inputColorType: 0, inputHasAlpha: false });
    png.data = Buffer.alloc(7 * 5 * (bitDepth / 8), 0x5a);
    return new Uint8Array(PNG.sync.write(png, { colorType: 0, inputColorType: 0, bitDepth, inputHasAlpha: false }));
  };
  return [{ files: [grey(8)] }, { files: [grey(16)] }];
}

const INTERESTING = [0, 1, 2, 0x7f, 0x80, 0xff, 0x7fff, 0x8000, 0xffff, 0x7fffffff, 0x80000000, 0xffffffff, 348, 540];

/** One random mutation of a file. */
function mutate(bytes: Uint8Array, rng: Prng): Uint8Array {
  const b = bytes.slice();
  const at = (): number => rng.int(0, Math.max(0, b.length - 1));
  switch (rng.int(0, 5)) {
    case 0: // truncate
      return b.subarray(0, rng.int(0, b.length - 1));
    case 1: // flip a few bytes
      for (let n = rng.int(1, 8); n > 0; n--) b[at()] = rng.int(0, 255);
      return b;
    case 2: {
      // write an interesting 16/32-bit value in either byte order (hits lengths, dims, offsets)
      const p = at();
      const v = new DataView(b.buffer);
      const value = INTERESTING[rng.int(0, INTERESTING.length - 1)]!;
      if (rng.chance(0.5) && p + 4 <= b.length) v.setUint32(p, value >>> 0, rng.chance(0.5));
      else if (p + 2 <= b.length) v.setUint16(p, value & 0xffff, rng.chance(0.5));
      return b;
    }
    case 3: {
      // delete a run of bytes
      const p = at();
      const n = Math.min(rng.int(1, 64), b.length - p);
      const out = new Uint8Array(b.length - n);
      out.set(b.subarray(0, p));
      out.set(b.subarray(p + n), p);
      return out;
    }
    case 4: {
      // duplicate a run of bytes
      const p = at();
      const run = b.subarray(p, p + rng.int(1, 64));
      const out = new Uint8Array(b.length + run.length);
      out.set(b.subarray(0, p));
      out.set(run, p);
      out.set(b.subarray(p), p + run.length);
      return out;
    }
    default: // mutate within the first 600 bytes, where the headers live
      for (let n = rng.int(1, 4); n > 0; n--) b[rng.int(0, Math.min(599, b.length - 1))] = rng.int(0, 255);
      return b;
  }
}

function checkVolume(v: Volume): string | undefined {
  const [nx, ny, nz] = v.dimsIJK;
  if (![nx, ny, nz].every((n) => Number.isSafeInteger(n) && n > 0)) return `bad dims ${v.dimsIJK}`;
  if (v.data.length !== nx * ny * nz) return `data length ${v.data.length} ≠ dims ${v.dimsIJK}`;
  if (!v.spacingMm.every((s) => Number.isFinite(s) && s > 0)) return `bad spacing ${v.spacingMm}`;
  if (!v.originLPS.every(Number.isFinite)) return `bad origin ${v.originLPS}`;
  if (!v.directionLPS.every((r) => r.every(Number.isFinite))) return "bad direction";
  if (nx * ny * nz > LIMITS.maxVoxels) return "voxel limit ignored";
  return undefined;
}

function run(job: FuzzJob): FuzzReport {
  const rng = new Prng(job.seed);
  const seeds = seedInputs(job.format);
  const codes: Record<string, number> = {};
  const failures: string[] = [];
  let volumes = 0;
  let maxCaseMs = 0;
  for (let c = 0; c < job.cases; c++) {
    const seed = seeds[c % seeds.length]!;
    const target = rng.int(0, seed.files.length - 1);
    let files = seed.files.map((f, n) => {
      let out = f;
      if (n === target || rng.chance(0.1)) for (let m = rng.int(1, 3); m > 0; m--) out = mutate(out, rng);
      return out;
    });
    if (seed.gzip) files = files.map((f) => new Uint8Array(gzipSync(f, { level: 1 })));
    parentPort!.postMessage({ type: "case", index: c });
    const t0 = performance.now();
    try {
      const v = decodeVolume(files, { limits: LIMITS, uidSalt: "fuzz" });
      volumes++;
      const bad = checkVolume(v);
      if (bad) failures.push(`case ${c}: invalid volume: ${bad}`);
    } catch (err) {
      if (err instanceof ImagingError && KNOWN_CODES.has(err.code)) codes[err.code] = (codes[err.code] ?? 0) + 1;
      else failures.push(`case ${c}: uncoded ${err instanceof Error ? `${err.name}: ${err.message}` : String(err)}`.slice(0, 300));
    }
    maxCaseMs = Math.max(maxCaseMs, performance.now() - t0);
  }
  return { cases: job.cases, volumes, codes, failures, maxCaseMs };
}

parentPort!.postMessage({ type: "done", report: run(workerData as FuzzJob) });
