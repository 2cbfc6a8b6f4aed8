// One scan of a benchmark: the phantom, its target (blob or lesion), labels and slice table.
import { Prng } from "../random/prng.ts";
import {
  DEFAULT_PHANTOM_GEOMETRY,
  drawAnatomy,
  drawNoiseField,
  paintTissue,
  renderSlice,
  type PhantomGeometry,
} from "./abdomen-phantom.ts";
import { addBlob, drawBlobTemplate, PAPER_BLOB_RECIPE, type BlobRecipe } from "./blob-template.ts";
import { drawLesion, lesionExtentMm, lesionField, type Lesion } from "./lesion.ts";

/** The benchmarks the generator knows. */
export const BENCHMARKS = ["kidney-blob", "kidney-lesion"] as const;
/** A benchmark name. */
export type BenchmarkName = (typeof BENCHMARKS)[number];

/** Label-map values written to labels/<scan>.nii.gz. */
export const LABEL = { background: 0, kidney: 1, target: 2 } as const;

/** Options shared by every scan of a benchmark. */
export interface BenchmarkScanOptions {
  readonly benchmark: BenchmarkName;
  readonly seed: number;
  /** The intensity window the kidney-blob recipe adds its blob in (HU). */
  readonly windowHU: readonly [number, number];
  readonly geometry?: PhantomGeometry;
  readonly blob?: BlobRecipe;
  /** Slices whose kidney area (native px) is below this are not part of the benchmark. Default 100. */
  readonly minKidneyAreaPx?: number;
  /** kidney-lesion: a slice is abnormal iff its lesion area exceeds this (native px). Default 250. */
  readonly abnormalAreaThresholdPx?: number;
  /** kidney-lesion: probability that a scan has a lesion. Default 0.75. */
  readonly lesionProbability?: number;
}

/** One benchmark slice of a scan (a row of manifest.csv). */
export interface BenchmarkSlice {
  readonly sliceIndex: number;
  readonly label: 0 | 1;
  readonly targetAreaPx: number;
  readonly kidneyAreaPx: number;
}

/** A generated scan: HU volumes with and without the target, the label map and the slice table. */
export interface BenchmarkScan {
  readonly geometry: PhantomGeometry;
  /** HU, rounded to int16: the scan as models see it (with blob / lesion). */
  readonly volumeHU: Int16Array;
  /** HU, the same scan without the target (the oracle's counterfactual). */
  readonly cleanHU: Int16Array;
  /** 0 background, 1 kidney, 2 target. */
  readonly labels: Uint8Array;
  readonly slices: readonly BenchmarkSlice[];
}

/**
 * Generates scan `scanIndex` of a benchmark, deterministically from (seed, scanIndex, options).
 * The anatomy, noise and target use separate PRNG streams, so the clean scan does not depend on
 * the window or on the benchmark.
 */
export function generateBenchmarkScan(scanIndex: number, options: BenchmarkScanOptions): BenchmarkScan {
  const geometry = options.geometry ?? DEFAULT_PHANTOM_GEOMETRY;
  const recipe = options.blob ?? PAPER_BLOB_RECIPE;
  const minKidneyAreaPx = options.minKidneyAreaPx ?? 100;
  const thresholdPx = options.abnormalAreaThresholdPx ?? 250;
  const anatomyRng = new Prng(options.seed, scanIndex * 4);
  const noiseRng = new Prng(options.seed, scanIndex * 4 + 1);
  const targetRng = new Prng(options.seed, scanIndex * 4 + 2);
  const anatomy = drawAnatomy(anatomyRng, geometry);
  const lesion =
    options.benchmark === "kidney-lesion" && targetRng.chance(options.lesionProbability ?? 0.75)
      ? drawLesion(targetRng, anatomy)
      : undefined;

  const { width, height, slices: nz } = geometry;
  const n = width * height;
  const volumeHU = new Int16Array(n * nz);
  const cleanHU = new Int16Array(n * nz);
  const labels = new Uint8Array(n * nz);
  const table: BenchmarkSlice[] = [];

  for (let k = 0; k < nz; k++) {
    const tissue = paintTissue(anatomy, geometry, k);
    const noise = drawNoiseField(noiseRng, geometry, anatomy.noiseHU);
    const clean = renderSlice(tissue.hu, geometry, noise);
    const target = new Uint8Array(n);
    let abnormal = clean;
    let targetAreaPx = 0;
    const areaById = [0, 0, 0];
    for (let p = 0; p < n; p++) areaById[tissue.kidneyId[p]!]!++;
    const kidneyAreaPx = areaById[1]! + areaById[2]!;
    const inBenchmark = kidneyAreaPx >= minKidneyAreaPx;

    if (lesion) {
      const lesionHU = tissue.hu.slice();
      targetAreaPx = paintLesion(lesion, geometry, k, lesionHU, target);
      if (targetAreaPx > 0) abnormal = renderSlice(lesionHU, geometry, noise);
    } else if (options.benchmark === "kidney-blob" && inBenchmark) {
      const drawn = drawKidneyBlob(targetRng, clean, tissue.kidneyId, width, height, options.windowHU, recipe, minKidneyAreaPx);
      if (drawn) {
        abnormal = drawn.hu;
        target.set(drawn.target);
        targetAreaPx = drawn.areaPx;
      }
    }

    const base = k * n;
    for (let p = 0; p < n; p++) {
      cleanHU[base + p] = Math.round(clean[p]!);
      volumeHU[base + p] = Math.round(abnormal[p]!);
      labels[base + p] = target[p] ? LABEL.target : tissue.kidneyId[p] ? LABEL.kidney : LABEL.background;
    }
    if (inBenchmark) {
      const label = options.benchmark === "kidney-blob" ? (targetAreaPx > 0 ? 1 : 0) : targetAreaPx > thresholdPx ? 1 : 0;
      table.push({ sliceIndex: k, label, targetAreaPx, kidneyAreaPx });
    }
  }
  return { geometry, volumeHU, cleanHU, labels, slices: table };
}

/** Paints the lesion's HU into `hu` and marks it in `mask` for slice k; returns its area in px. */
function paintLesion(lesion: Lesion, geometry: PhantomGeometry, k: number, hu: Float32Array, mask: Uint8Array): number {
  const { width, height, pixelMm, sliceMm } = geometry;
  const z = (k + 0.5) * sliceMm;
  const c = lesion.spheres[0]!;
  const extent = lesionExtentMm(lesion);
  if (Math.abs(z - c.zMm) > extent) return 0;
  const cx = (width - 1) / 2;
  const cy = (height - 1) / 2;
  const i0 = Math.max(0, Math.floor(cx + (c.xMm - extent) / pixelMm));
  const i1 = Math.min(width - 1, Math.ceil(cx + (c.xMm + extent) / pixelMm));
  const j0 = Math.max(0, Math.floor(cy + (c.yMm - extent) / pixelMm));
  const j1 = Math.min(height - 1, Math.ceil(cy + (c.yMm + extent) / pixelMm));
  let area = 0;
  for (let j = j0; j <= j1; j++) {
    for (let i = i0; i <= i1; i++) {
      const x = (i - cx) * pixelMm;
      const y = (j - cy) * pixelMm;
      const f = lesionField(lesion, x, y, z);
      const p = j * width + i;
      if (f <= 0 || hu[p]! < -500) continue;
      const texture = lesion.textureHU * Math.sin(0.55 * x + 0.8) * Math.cos(0.47 * y - 0.3 * z);
      hu[p] = (lesion.necroticHU !== undefined && f > 0.55 ? lesion.necroticHU : lesion.meanHU) + texture;
      mask[p] = 1;
      area++;
    }
  }
  return area;
}

/**
 * The kidney-blob recipe on one benchmark slice: with probability `recipe.probability`, a blob
 * template centred on a random pixel of one of the (up to) two kidney contours (chosen at random
 * among those present), added on the window's [0, 1] scale. Returns the new HU slice, the ground
 * truth (template > recipe.gtThreshold), its area and the centre pixel, or undefined when no blob is drawn.
 * `kidneyId` holds 0 (none), 1 or 2 per pixel.
 */
export function drawKidneyBlob(
  rng: Prng,
  clean: Float32Array,
  kidneyId: Uint8Array,
  width: number,
  height: number,
  windowHU: readonly [number, number],
  recipe: BlobRecipe,
  minKidneyAreaPx: number,
): { hu: Float32Array; target: Uint8Array; areaPx: number; centreRow: number; centreCol: number } | undefined {
  if (!rng.chance(recipe.probability)) return undefined;
  const areaById = [0, 0, 0];
  for (let p = 0; p < kidneyId.length; p++) areaById[kidneyId[p]!]!++;
  const present = [1, 2].filter((id) => areaById[id]! >= minKidneyAreaPx / 4);
  if (present.length === 0) return undefined;
  const id = present[rng.int(0, present.length - 1)]!;
  const pick = rng.int(0, areaById[id]! - 1);
  let seen = -1;
  let centre = 0;
  for (let p = 0; p < kidneyId.length; p++) {
    if (kidneyId[p] === id && ++seen === pick) {
      centre = p;
      break;
    }
  }
  const template = drawBlobTemplate(rng, recipe);
  const hu = clean.slice();
  const target = new Uint8Array(width * height);
  const centreRow = Math.floor(centre / width);
  const centreCol = centre % width;
  const areaPx = addBlob(hu, width, height, template, centreRow, centreCol, windowHU, recipe, target);
  return { hu, target, areaPx, centreRow, centreCol };
}
