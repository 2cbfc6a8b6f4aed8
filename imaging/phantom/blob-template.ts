// The paper's synthetic target: a grid-distorted, rotated Gaussian blob template.
import type { Prng } from "../random/prng.ts";

/** Parameters of the kidney-blob recipe (the COIN paper's synthetic benchmark). */
export interface BlobRecipe {
  /** Template side in native pixels at scale 1 (paper: 20 px at 256²). */
  readonly templatePx: number;
  /** Gaussian σ on the template's [−1, 1]² grid (paper: 0.4). */
  readonly sigma: number;
  /** Scale range of the template (paper: 0.75–1.0). */
  readonly scaleRange: readonly [number, number];
  /** Rotation range in degrees (paper: ±90°). */
  readonly rotationDeg: number;
  /** Grid distortion: displacement amplitude on the [−1, 1] grid, and control points per side. */
  readonly distortion: number;
  readonly distortionSteps: number;
  /** Intensity added on the window's [0, 1] scale (paper: 0.9); the result is clipped at 1. */
  readonly intensity: number;
  /** Ground truth = template > this (paper: 0.25). */
  readonly gtThreshold: number;
  /** Probability that a kidney slice gets a blob (paper: 0.65). */
  readonly probability: number;
}

/** The paper's recipe. */
export const PAPER_BLOB_RECIPE: BlobRecipe = {
  templatePx: 20,
  sigma: 0.4,
  scaleRange: [0.75, 1.0],
  rotationDeg: 90,
  distortion: 0.15,
  distortionSteps: 5,
  intensity: 0.9,
  gtThreshold: 0.25,
  probability: 0.65,
};

/** A drawn template: `size × size` values in [0, 1], row-major. */
export interface BlobTemplate {
  readonly size: number;
  readonly values: Float32Array;
}

/**
 * Draws one template: a Gaussian exp(−r² / 2σ²) on a [−1, 1]² grid of `round(templatePx × scale)`
 * pixels whose sampling grid is warped by a smooth random displacement (bilinear between
 * `distortionSteps`² control points) and rotated by a random angle.
 */
export function drawBlobTemplate(rng: Prng, recipe: BlobRecipe = PAPER_BLOB_RECIPE): BlobTemplate {
  const scale = rng.uniform(recipe.scaleRange[0], recipe.scaleRange[1]);
  const size = Math.max(3, Math.round(recipe.templatePx * scale));
  const angle = (rng.uniform(-recipe.rotationDeg, recipe.rotationDeg) * Math.PI) / 180;
  const steps = recipe.distortionSteps;
  const du = new Float32Array(steps * steps).map(() => rng.uniform(-recipe.distortion, recipe.distortion));
  const dv = new Float32Array(steps * steps).map(() => rng.uniform(-recipe.distortion, recipe.distortion));
  const cos = Math.cos(angle);
  const sin = Math.sin(angle);
  const twoSigma2 = 2 * recipe.sigma * recipe.sigma;
  const values = new Float32Array(size * size);
  for (let r = 0; r < size; r++) {
    for (let c = 0; c < size; c++) {
      const u = size === 1 ? 0 : (2 * c) / (size - 1) - 1;
      const v = size === 1 ? 0 : (2 * r) / (size - 1) - 1;
      const gu = ((u + 1) / 2) * (steps - 1);
      const gv = ((v + 1) / 2) * (steps - 1);
      const wu = bilinear(du, steps, gu, gv);
      const wv = bilinear(dv, steps, gu, gv);
      const x = u + wu;
      const y = v + wv;
      const xr = x * cos - y * sin;
      const yr = x * sin + y * cos;
      values[r * size + c] = Math.exp(-(xr * xr + yr * yr) / twoSigma2);
    }
  }
  return { size, values };
}

function bilinear(grid: Float32Array, steps: number, gx: number, gy: number): number {
  const x0 = Math.min(steps - 2, Math.floor(gx));
  const y0 = Math.min(steps - 2, Math.floor(gy));
  const fx = gx - x0;
  const fy = gy - y0;
  const at = (x: number, y: number): number => grid[y * steps + x]!;
  return (
    at(x0, y0) * (1 - fx) * (1 - fy) + at(x0 + 1, y0) * fx * (1 - fy) + at(x0, y0 + 1) * (1 - fx) * fy + at(x0 + 1, y0 + 1) * fx * fy
  );
}

/**
 * Adds a template centred on native pixel (rowCentre, colCentre) of an HU slice, the paper's way:
 * on the window's [0, 1] scale, `+ intensity × template`, clipped at 1, converted back to HU.
 * Marks `template > gtThreshold` in `gt` (1) and returns the number of ground-truth pixels.
 */
export function addBlob(
  hu: Float32Array,
  width: number,
  height: number,
  template: BlobTemplate,
  rowCentre: number,
  colCentre: number,
  windowHU: readonly [number, number],
  recipe: BlobRecipe,
  gt: Uint8Array,
): number {
  const [low, high] = windowHU;
  const w = high - low;
  const half = Math.floor(template.size / 2);
  let area = 0;
  for (let r = 0; r < template.size; r++) {
    const row = rowCentre - half + r;
    if (row < 0 || row >= height) continue;
    for (let c = 0; c < template.size; c++) {
      const col = colCentre - half + c;
      if (col < 0 || col >= width) continue;
      const t = template.values[r * template.size + c]!;
      const p = row * width + col;
      const base = Math.min(1, Math.max(0, (hu[p]! - low) / w));
      const raised = Math.min(1, base + recipe.intensity * t);
      // Below the window the paper's clipped image reads 0: start the blob from the window's floor,
      // so that on the model's [0, 1] scale the pixel ends at exactly `raised` (invisible in-window).
      hu[p] = Math.max(hu[p]!, low) + (raised - base) * w;
      if (t > recipe.gtThreshold && gt[p] === 0) {
        gt[p] = 1;
        area++;
      }
    }
  }
  return area;
}
