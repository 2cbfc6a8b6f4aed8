// scripts/dataset.ts end to end on tiny sets (64² and 96² grids): files, manifest, labels, splits,
// determinism, and the kidney-lesion benchmark's rules.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { execFile } from "node:child_process";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { promisify } from "node:util";
import { decodeNifti } from "../../../imaging/nifti/nifti-decoder.ts";
import { LABEL } from "../../../imaging/phantom/benchmark-scan.ts";
import type { Volume } from "../../../imaging/volume.ts";
import { fileHashes } from "../../adapters/support/file-hashes.ts";

const root = fileURLToPath(new URL("../../..", import.meta.url));
const MANIFEST_HEADER = "scanId,split,sliceIndex,label,targetAreaPx,kidneyAreaPx";

interface ManifestRow {
  scanId: string;
  split: string;
  sliceIndex: number;
  label: number;
  targetAreaPx: number;
  kidneyAreaPx: number;
}

interface Card {
  benchmark: string;
  seed: number;
  scans: number;
  sizeIJK: [number, number];
  slicesPerScan: number;
  spacingMm: [number, number, number];
  windowHU: [number, number];
  splits: Record<"train" | "val" | "test", string[]>;
  counts: { slices: number; abnormal: number };
  abnormalAreaThresholdPx?: number;
  minKidneyAreaPx: number;
}

/** Runs the CLI into a fresh temp folder and returns the folder. */
async function runDataset(args: string[]): Promise<string> {
  const out = await mkdtemp(path.join(tmpdir(), "coinseg-dataset-"));
  await promisify(execFile)(process.execPath, ["--import", "tsx", "scripts/dataset.ts", ...args, "--out", out], { cwd: root, timeout: 60_000 });
  return out;
}

async function readSet(dir: string): Promise<{ card: Card; header: string; rows: ManifestRow[] }> {
  const card = JSON.parse(await readFile(path.join(dir, "dataset.json"), "utf8")) as Card;
  const [header, ...lines] = (await readFile(path.join(dir, "manifest.csv"), "utf8")).trimEnd().split("\n");
  const rows = lines.map((line) => {
    const [scanId, split, sliceIndex, label, targetAreaPx, kidneyAreaPx] = line.split(",");
    return { scanId: scanId!, split: split!, sliceIndex: Number(sliceIndex), label: Number(label), targetAreaPx: Number(targetAreaPx), kidneyAreaPx: Number(kidneyAreaPx) };
  });
  return { card, header: header!, rows };
}

async function readVolume(dir: string, sub: "volumes" | "clean" | "labels", scanId: string): Promise<Volume> {
  return decodeNifti(new Uint8Array(await readFile(path.join(dir, sub, `${scanId}.nii.gz`))));
}

/** Count of label-2 voxels on slice k. */
function targetArea(labels: Volume, k: number): number {
  const [nx, ny] = labels.dimsIJK;
  let n = 0;
  for (let p = k * nx * ny; p < (k + 1) * nx * ny; p++) if (labels.data[p] === LABEL.target) n++;
  return n;
}

describe("dataset CLI on a tiny kidney-blob set", () => {
  const args = ["--benchmark", "kidney-blob", "--scans", "3", "--seed", "5", "--size", "64", "--slices", "16"];
  const dirs: string[] = [];
  let dir: string;
  before(async () => {
    dir = await runDataset(args);
    dirs.push(dir);
  });
  after(async () => {
    for (const d of dirs) await rm(d, { recursive: true, force: true });
  });

  it("should write the card, the manifest and a volume, clean copy and label map per scan when run", async () => {
    const { card } = await readSet(dir);
    const ids = ["kidney-blob-0000", "kidney-blob-0001", "kidney-blob-0002"];
    const expected = ["dataset.json", "manifest.csv", ...["volumes", "clean", "labels"].flatMap((sub) => ids.map((id) => path.join(sub, `${id}.nii.gz`)))];
    assert.deepEqual(Object.keys(await fileHashes(dir)).sort(), expected.sort());
    assert.deepEqual([card.benchmark, card.seed, card.scans, card.sizeIJK, card.slicesPerScan, card.spacingMm], ["kidney-blob", 5, 3, [64, 64], 16, [6, 6, 10.5]]);
    for (const id of ids) {
      for (const sub of ["volumes", "clean", "labels"] as const) {
        const v = await readVolume(dir, sub, id);
        assert.deepEqual(v.dimsIJK, [64, 64, 16], `${sub}/${id}`);
        assert.deepEqual(v.spacingMm.map((x) => Math.round(x * 1000) / 1000), [6, 6, 10.5]);
      }
    }
  });

  it("should list every benchmark slice with its label and target area when the manifest is read", async () => {
    const { card, header, rows } = await readSet(dir);
    assert.equal(header, MANIFEST_HEADER);
    assert.equal(rows.length, card.counts.slices);
    assert.equal(rows.filter((r) => r.label === 1).length, card.counts.abnormal);
    assert.ok(card.counts.abnormal > 0 && card.counts.abnormal < rows.length, "both labels occur");
    for (const id of new Set(rows.map((r) => r.scanId))) {
      const [labels, volume, clean] = [await readVolume(dir, "labels", id), await readVolume(dir, "volumes", id), await readVolume(dir, "clean", id)];
      const plane = 64 * 64;
      for (const r of rows.filter((x) => x.scanId === id)) {
        assert.equal(r.targetAreaPx, targetArea(labels, r.sliceIndex), `${id} slice ${r.sliceIndex}`);
        assert.equal(r.label, r.targetAreaPx > 0 ? 1 : 0, "kidney-blob: abnormal iff a blob was added");
        assert.ok(r.kidneyAreaPx >= card.minKidneyAreaPx);
        if (r.label === 0) {
          const k = r.sliceIndex * plane;
          assert.deepEqual(volume.data.subarray(k, k + plane), clean.data.subarray(k, k + plane), "a normal slice equals its clean copy");
        }
      }
    }
  });

  it("should split by scan into disjoint train, val and test sets when the card is read", async () => {
    const { card, rows } = await readSet(dir);
    const all = [...card.splits.train, ...card.splits.val, ...card.splits.test];
    assert.equal(new Set(all).size, all.length, "no scan in two splits");
    assert.deepEqual([...all].sort(), ["kidney-blob-0000", "kidney-blob-0001", "kidney-blob-0002"]);
    for (const split of ["train", "val", "test"] as const) assert.ok(card.splits[split].length >= 1, `${split} is not empty`);
    for (const r of rows) assert.ok(card.splits[r.split as "train"].includes(r.scanId), `${r.scanId} row says ${r.split}`);
  });

  it("should write byte-identical files when run again with the same seed, and different volumes with another seed", async () => {
    const again = await runDataset(args);
    const other = await runDataset(args.map((a, i) => (args[i - 1] === "--seed" ? "6" : a)));
    dirs.push(again, other);
    const first = await fileHashes(dir);
    assert.deepEqual(await fileHashes(again), first);
    const changed = await fileHashes(other);
    assert.notEqual(changed["volumes/kidney-blob-0000.nii.gz"], first["volumes/kidney-blob-0000.nii.gz"]);
  });
});

describe("dataset CLI on a tiny kidney-lesion set", () => {
  let dir: string;
  let set: Awaited<ReturnType<typeof readSet>>;
  before(async () => {
    // No --seed: the CLI's default for kidney-lesion (11, the committed lesion models' dataset).
    dir = await runDataset(["--benchmark", "kidney-lesion", "--scans", "12", "--size", "96", "--slices", "24"]);
    set = await readSet(dir);
  });
  after(async () => rm(dir, { recursive: true, force: true }));

  it("should default to the seed the committed kidney-lesion models were trained on when --seed is left out", async () => {
    const card = JSON.parse(await readFile("models/kidney-lesion-coin/model.json", "utf8")) as { training: { dataset: { seed: number } } };
    assert.equal(set.card.seed, 11);
    assert.equal(set.card.seed, card.training.dataset.seed);
  });

  it("should label a slice abnormal iff its lesion area exceeds the card's threshold", async () => {
    const threshold = set.card.abnormalAreaThresholdPx!;
    // 250 native px of the 1.5 mm grid, kept in mm² on this 4 mm grid.
    assert.equal(threshold, Math.round(250 * (1.5 / 4) ** 2));
    for (const id of new Set(set.rows.map((r) => r.scanId))) {
      const labels = await readVolume(dir, "labels", id);
      for (const r of set.rows.filter((x) => x.scanId === id)) {
        assert.equal(r.targetAreaPx, targetArea(labels, r.sliceIndex), `${id} slice ${r.sliceIndex}`);
        assert.equal(r.label, r.targetAreaPx > threshold ? 1 : 0, `${id} slice ${r.sliceIndex}: ${r.targetAreaPx} px`);
      }
    }
    const labelled = set.rows.filter((r) => r.targetAreaPx > 0);
    assert.ok(labelled.some((r) => r.label === 1), "some lesion slices are abnormal");
    assert.ok(labelled.some((r) => r.label === 0), "some slices show a lesion below the threshold and stay normal");
  });

  it("should put every lesion inside or against a kidney, and draw both hypo- and hyperdense lesions", async () => {
    const densities: ("hypo" | "hyper")[] = [];
    for (const id of set.card.splits.train.concat(set.card.splits.val, set.card.splits.test)) {
      const [labels, volume, clean] = [await readVolume(dir, "labels", id), await readVolume(dir, "volumes", id), await readVolume(dir, "clean", id)];
      const [nx, ny, nz] = labels.dimsIJK;
      const at = (i: number, j: number, k: number) => labels.data[i + nx * (j + ny * k)];
      let lesionHU = 0;
      let lesionVoxels = 0;
      let kidneyHU = 0;
      let kidneyVoxels = 0;
      for (let p = 0; p < labels.data.length; p++) {
        if (labels.data[p] === LABEL.target) {
          lesionHU += volume.data[p]!;
          lesionVoxels++;
        } else if (labels.data[p] === LABEL.kidney) {
          kidneyHU += clean.data[p]!;
          kidneyVoxels++;
        }
      }
      if (lesionVoxels === 0) continue;
      // Every 26-connected piece of the lesion has a voxel next to a kidney voxel.
      const seen = new Uint8Array(labels.data.length);
      for (let start = 0; start < labels.data.length; start++) {
        if (labels.data[start] !== LABEL.target || seen[start]) continue;
        let touches = false;
        const stack = [start];
        seen[start] = 1;
        while (stack.length > 0) {
          const p = stack.pop()!;
          const [i, j, k] = [p % nx, Math.floor(p / nx) % ny, Math.floor(p / (nx * ny))];
          for (let dk = -1; dk <= 1; dk++) for (let dj = -1; dj <= 1; dj++) for (let di = -1; di <= 1; di++) {
            const [a, b, c] = [i + di, j + dj, k + dk];
            if (a < 0 || b < 0 || c < 0 || a >= nx || b >= ny || c >= nz) continue;
            const q = a + nx * (b + ny * c);
            if (at(a, b, c) === LABEL.kidney) touches = true;
            else if (labels.data[q] === LABEL.target && !seen[q]) {
              seen[q] = 1;
              stack.push(q);
            }
          }
        }
        assert.ok(touches, `${id}: a lesion piece at voxel ${start} touches no kidney`);
      }
      densities.push(lesionHU / lesionVoxels < kidneyHU / kidneyVoxels ? "hypo" : "hyper");
    }
    assert.ok(densities.length >= 4, `lesions in ${densities.length} of 12 scans`);
    assert.ok(densities.includes("hypo") && densities.includes("hyper"), `densities: ${densities.join(", ")}`);
  });
});
