// Loads a benchmark's test split (docs/DATASET.md) as native slices, clean slices and ground truth.
import { readFile } from "node:fs/promises";
import { join } from "node:path";
import type { BinaryMask } from "../../imaging/mask/binary-mask.ts";
import { decodeNifti } from "../../imaging/nifti/nifti-decoder.ts";
import type { Image2D, Volume } from "../../imaging/volume.ts";
import { InferenceError } from "../errors/inference-error.ts";

/** One row of manifest.csv. */
export interface ManifestRow {
  readonly scanId: string;
  readonly split: "train" | "val" | "test";
  readonly sliceIndex: number;
  readonly label: 0 | 1;
  readonly targetAreaPx: number;
  readonly kidneyAreaPx: number;
}

/** A test slice ready for evaluation (native grid, row = j, column = i). */
export interface BenchmarkSlice {
  readonly scanId: string;
  readonly sliceIndex: number;
  readonly label: 0 | 1;
  readonly targetAreaPx: number;
  /** The slice the models see, HU. */
  readonly hu: Image2D<Int16Array>;
  /** The same slice without blob / lesion (the oracle's x_cf), HU. */
  readonly clean: Image2D<Int16Array>;
  /** Ground truth: label value 2 of labels/<scanId>.nii.gz. */
  readonly truth: BinaryMask;
}

/** Options of {@link loadBenchmarkTestSet}. */
export interface LoadTestSetOptions {
  /** Keep only ground-truth-positive slices (targetAreaPx > 0); default true (DESIGN.md §2). */
  readonly positiveOnly?: boolean;
  /** At most this many slices, in manifest order (scanId, sliceIndex). */
  readonly limit?: number;
  /** Split to load (default "test"). */
  readonly split?: ManifestRow["split"];
}

/**
 * Parses manifest.csv (columns scanId,split,sliceIndex,label,targetAreaPx,kidneyAreaPx).
 * @throws InferenceError INVALID_METHOD_INPUT for a missing column or a malformed row.
 */
export function parseManifest(csv: string): ManifestRow[] {
  const lines = csv.split(/\r?\n/).filter((l) => l.trim() !== "");
  const header = lines.shift()?.split(",") ?? [];
  const col = (name: string): number => {
    const i = header.indexOf(name);
    if (i < 0) throw new InferenceError("INVALID_METHOD_INPUT", `manifest.csv has no column ${name}`);
    return i;
  };
  const [cScan, cSplit, cSlice, cLabel, cTarget, cKidney] = ["scanId", "split", "sliceIndex", "label", "targetAreaPx", "kidneyAreaPx"].map(col) as [number, number, number, number, number, number];
  return lines.map((line, n) => {
    const f = line.split(",");
    const row = {
      scanId: f[cScan]!,
      split: f[cSplit] as ManifestRow["split"],
      sliceIndex: Number(f[cSlice]),
      label: Number(f[cLabel]) as 0 | 1,
      targetAreaPx: Number(f[cTarget]),
      kidneyAreaPx: Number(f[cKidney]),
    };
    if (!row.scanId || !["train", "val", "test"].includes(row.split) || !Number.isInteger(row.sliceIndex) || !Number.isFinite(row.targetAreaPx)) {
      throw new InferenceError("INVALID_METHOD_INPUT", `manifest.csv row ${n + 2} is malformed`);
    }
    return row;
  });
}

/**
 * Reads `<dataDir>/manifest.csv`, selects the split's rows (ground-truth-positive only by default,
 * i.e. targetAreaPx > 0), and decodes volumes/, clean/ and labels/ of each scan once, keeping only the
 * selected slices (as Int16 HU to halve memory).
 *
 * @throws InferenceError INVALID_METHOD_INPUT for a malformed manifest; ImagingError codes for bad NIfTI.
 */
export async function loadBenchmarkTestSet(dataDir: string, options: LoadTestSetOptions = {}): Promise<BenchmarkSlice[]> {
  const rows = parseManifest(await readFile(join(dataDir, "manifest.csv"), "utf8"))
    .filter((r) => r.split === (options.split ?? "test") && (options.positiveOnly === false || r.targetAreaPx > 0))
    .sort((a, b) => (a.scanId < b.scanId ? -1 : a.scanId > b.scanId ? 1 : a.sliceIndex - b.sliceIndex));
  const chosen = options.limit !== undefined ? rows.slice(0, options.limit) : rows;
  const byScan = new Map<string, ManifestRow[]>();
  for (const r of chosen) byScan.set(r.scanId, [...(byScan.get(r.scanId) ?? []), r]);
  const out: BenchmarkSlice[] = [];
  for (const [scanId, scanRows] of byScan) {
    const [volume, clean, labels] = await Promise.all(
      ["volumes", "clean", "labels"].map(async (d) => decodeNifti(await readFile(join(dataDir, d, `${scanId}.nii.gz`)))),
    );
    for (const r of scanRows) {
      const truthData = sliceValues(labels!, r.sliceIndex);
      const truth = new Uint8Array(truthData.length);
      for (let p = 0; p < truth.length; p++) truth[p] = truthData[p] === 2 ? 1 : 0;
      const [nx, ny] = volume!.dimsIJK;
      out.push({
        scanId,
        sliceIndex: r.sliceIndex,
        label: r.label,
        targetAreaPx: r.targetAreaPx,
        hu: { width: nx, height: ny, data: Int16Array.from(sliceValues(volume!, r.sliceIndex)) },
        clean: { width: nx, height: ny, data: Int16Array.from(sliceValues(clean!, r.sliceIndex)) },
        truth: { width: nx, height: ny, data: truth },
      });
    }
  }
  return out;
}

function sliceValues(volume: Volume, k: number): ArrayLike<number> {
  const [nx, ny, nz] = volume.dimsIJK;
  if (k < 0 || k >= nz) throw new InferenceError("INVALID_METHOD_INPUT", `slice ${k} outside 0..${nz - 1}`);
  return volume.data.subarray(k * nx * ny, (k + 1) * nx * ny);
}
