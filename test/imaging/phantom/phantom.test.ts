import { test } from "node:test";
import assert from "node:assert/strict";
import { Prng } from "../../../imaging/random/prng.ts";
import { DEFAULT_PHANTOM_GEOMETRY, drawAnatomy, paintTissue } from "../../../imaging/phantom/abdomen-phantom.ts";
import { drawKidneyBlob, generateBenchmarkScan, LABEL } from "../../../imaging/phantom/benchmark-scan.ts";
import { addBlob, drawBlobTemplate, PAPER_BLOB_RECIPE } from "../../../imaging/phantom/blob-template.ts";

const geometry = DEFAULT_PHANTOM_GEOMETRY;
const scan = generateBenchmarkScan(3, { benchmark: "kidney-blob", seed: 7, windowHU: [49, 255] });

function median(values: number[]): number {
  const s = [...values].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

test("should put kidney, fat and bone HU in realistic ranges when a scan is generated", () => {
  const kidney: number[] = [];
  for (let p = 0; p < scan.labels.length; p++) if (scan.labels[p] === LABEL.kidney) kidney.push(scan.cleanHU[p]!);
  assert.ok(kidney.length > 10_000, `kidney voxels: ${kidney.length}`);
  const kidneyMedian = median(kidney);
  assert.ok(kidneyMedian > 100 && kidneyMedian < 220, `kidney median ${kidneyMedian} HU`);

  const anatomy = drawAnatomy(new Prng(7, 12), geometry);
  const tissue = paintTissue(anatomy, geometry, 20);
  const values = Array.from(tissue.hu);
  const fat = values.filter((v) => v > -130 && v < -60);
  const bone = values.filter((v) => v > 400);
  assert.ok(fat.length > 2_000, "subcutaneous and visceral fat present");
  assert.ok(median(fat) > -110 && median(fat) < -80, `fat median ${median(fat)} HU`);
  assert.ok(bone.length > 300 && median(bone) > 500 && median(bone) < 1000, `bone median ${median(bone)} HU`);
  assert.ok(values.filter((v) => v <= -999).length > 10_000, "air around the body");
});

test("should reproduce the same scan when the seed and scan index are the same", () => {
  const again = generateBenchmarkScan(3, { benchmark: "kidney-blob", seed: 7, windowHU: [49, 255] });
  assert.deepEqual(again.slices, scan.slices);
  assert.equal(Buffer.compare(Buffer.from(again.volumeHU.buffer), Buffer.from(scan.volumeHU.buffer)), 0);
  const other = generateBenchmarkScan(3, { benchmark: "kidney-blob", seed: 8, windowHU: [49, 255] });
  assert.notEqual(Buffer.compare(Buffer.from(other.cleanHU.buffer), Buffer.from(scan.cleanHU.buffer)), 0);
});

test("should label exactly the slices with a blob as abnormal when the benchmark is kidney-blob", () => {
  const n = geometry.width * geometry.height;
  for (const slice of scan.slices) {
    let target = 0;
    let changed = 0;
    for (let p = 0; p < n; p++) {
      if (scan.labels[slice.sliceIndex * n + p] === LABEL.target) target++;
      if (scan.volumeHU[slice.sliceIndex * n + p] !== scan.cleanHU[slice.sliceIndex * n + p]) changed++;
    }
    assert.equal(target, slice.targetAreaPx);
    assert.equal(slice.label, target > 0 ? 1 : 0);
    if (slice.label === 0) assert.equal(changed, 0, `normal slice ${slice.sliceIndex} differs from its clean copy`);
  }
});

test("should follow the paper's blob recipe when drawn 1000 times on kidney slices", () => {
  const width = 96;
  const height = 96;
  const kidneyId = new Uint8Array(width * height);
  // Two elliptic kidneys of different sizes.
  for (let j = 0; j < height; j++) {
    for (let i = 0; i < width; i++) {
      if (((i - 28) / 14) ** 2 + ((j - 50) / 11) ** 2 <= 1) kidneyId[j * width + i] = 1;
      if (((i - 70) / 10) ** 2 + ((j - 48) / 8) ** 2 <= 1) kidneyId[j * width + i] = 2;
    }
  }
  const clean = new Float32Array(width * height).fill(150);
  const rng = new Prng(99, 1);
  let drawn = 0;
  for (let draw = 0; draw < 1000; draw++) {
    const blob = drawKidneyBlob(rng, clean, kidneyId, width, height, [49, 255], PAPER_BLOB_RECIPE, 100);
    if (!blob) continue;
    drawn++;
    assert.ok(kidneyId[blob.centreRow * width + blob.centreCol]! > 0, `draw ${draw}: centre outside the kidneys`);
    // Ground-truth pixels sit around the centre, and every one of them was brightened.
    let rowSum = 0;
    let colSum = 0;
    for (let p = 0; p < blob.target.length; p++) {
      if (!blob.target[p]) continue;
      assert.ok(blob.hu[p]! > clean[p]!, "a ground-truth pixel was not brightened");
      rowSum += Math.floor(p / width);
      colSum += p % width;
    }
    assert.ok(Math.hypot(rowSum / blob.areaPx - blob.centreRow, colSum / blob.areaPx - blob.centreCol) < 3, "blob off centre");
    assert.ok(blob.areaPx > 40 && blob.areaPx < 400, `draw ${draw}: area ${blob.areaPx}`);
  }
  assert.ok(Math.abs(drawn / 1000 - 0.65) < 0.04, `blob rate ${drawn / 1000}`);
});

test("should mark ground truth exactly where the template exceeds 0.25 when a template is drawn", () => {
  const rng = new Prng(5, 5);
  for (let draw = 0; draw < 200; draw++) {
    const template = drawBlobTemplate(rng);
    assert.ok(template.size >= 15 && template.size <= 20, `size ${template.size}`);
    const clean = new Float32Array(template.size * template.size).fill(100);
    const hu = clean.slice();
    const gt = new Uint8Array(clean.length);
    const centre = Math.floor(template.size / 2);
    addBlob(hu, template.size, template.size, template, centre, centre, [0, 400], PAPER_BLOB_RECIPE, gt);
    for (let p = 0; p < gt.length; p++) assert.equal(gt[p], template.values[p]! > 0.25 ? 1 : 0);
  }
});

