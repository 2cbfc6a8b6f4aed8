// A procedural abdominal CT phantom in HU, with two kidneys whose cross-section changes along z.
import { Prng } from "../random/prng.ts";
import { gaussianBlur2D } from "../filter/gaussian-blur.ts";
import { fillEllipse, forEachPixelInEllipse, type Ellipse, type SliceGrid } from "./shapes.ts";

/** Size and sampling of a phantom scan. Defaults: 256 × 256 × 56 voxels of 1.5 × 1.5 × 3 mm. */
export interface PhantomGeometry {
  readonly width: number;
  readonly height: number;
  readonly slices: number;
  readonly pixelMm: number;
  readonly sliceMm: number;
}

/** The default geometry of the benchmarks. */
export const DEFAULT_PHANTOM_GEOMETRY: PhantomGeometry = { width: 256, height: 256, slices: 56, pixelMm: 1.5, sliceMm: 3 };

/** One kidney of a scan: an ellipsoid-like organ along z (all lengths in mm, z grows superiorly). */
export interface KidneyAnatomy {
  readonly side: "left" | "right";
  readonly xMm: number;
  readonly yMm: number;
  readonly zCentreMm: number;
  readonly halfLengthMm: number;
  readonly aMm: number;
  readonly bMm: number;
  readonly angleRad: number;
  readonly cortexHU: number;
  readonly medullaHU: number;
}

/** Per-scan anatomy drawn from the scan's seed (body size, organ positions, contrast). */
export interface PhantomAnatomy {
  readonly bodyAMm: number;
  readonly bodyBMm: number;
  readonly bodyShiftXMm: number;
  readonly fatMm: number;
  readonly wallMm: number;
  readonly vertebraYMm: number;
  readonly liverBottomMm: number;
  readonly spleenBottomMm: number;
  readonly kidneys: readonly [KidneyAnatomy, KidneyAnatomy];
  readonly noiseHU: number;
  readonly bowel: readonly BowelLoop[];
  readonly liverHU: number;
  readonly aortaHU: number;
}

interface BowelLoop {
  readonly xMm: number;
  readonly yMm: number;
  readonly rMm: number;
  readonly zFromMm: number;
  readonly zToMm: number;
  readonly phase: number;
  readonly contentHU: number;
}

/** Draws a scan's anatomy from a PRNG stream. */
export function drawAnatomy(rng: Prng, geometry: PhantomGeometry = DEFAULT_PHANTOM_GEOMETRY): PhantomAnatomy {
  const zSpan = geometry.slices * geometry.sliceMm;
  const scale = rng.uniform(0.88, 1.08);
  const vertebraYMm = rng.uniform(38, 50) * scale;
  const zLeft = zSpan * rng.uniform(0.5, 0.58);
  const zRight = zLeft - rng.uniform(4, 18);
  const kidney = (side: "left" | "right", zc: number): KidneyAnatomy => {
    const sign = side === "left" ? 1 : -1;
    const cortexHU = rng.uniform(150, 195);
    return {
      side,
      xMm: sign * rng.uniform(62, 76) * scale,
      yMm: vertebraYMm + rng.uniform(-8, 4),
      zCentreMm: zc,
      halfLengthMm: rng.uniform(48, 58),
      aMm: rng.uniform(26, 32) * scale,
      bMm: rng.uniform(20, 25) * scale,
      angleRad: sign * rng.uniform(0.35, 0.8),
      cortexHU,
      medullaHU: cortexHU - rng.uniform(55, 85),
    };
  };
  const kidneys = [kidney("left", zLeft), kidney("right", zRight)] as const;
  const bowel: BowelLoop[] = [];
  const loops = rng.int(13, 19);
  for (let n = 0; n < loops; n++) {
    const gas = rng.chance(0.2);
    const zFrom = rng.uniform(-20, zSpan * 0.7);
    bowel.push({
      xMm: rng.uniform(-95, 95) * scale,
      yMm: rng.uniform(-95, 10) * scale,
      rMm: rng.uniform(10, 26),
      zFromMm: zFrom,
      zToMm: zFrom + rng.uniform(30, 120),
      phase: rng.uniform(0, 2 * Math.PI),
      contentHU: gas ? rng.uniform(-980, -850) : rng.uniform(5, 40),
    });
  }
  return {
    bodyAMm: rng.uniform(150, 172) * scale,
    bodyBMm: rng.uniform(108, 125) * scale,
    bodyShiftXMm: rng.uniform(-6, 6),
    fatMm: rng.uniform(10, 28),
    wallMm: rng.uniform(7, 12),
    vertebraYMm,
    liverBottomMm: zRight + rng.uniform(-10, 15),
    spleenBottomMm: zLeft + rng.uniform(10, 30),
    kidneys,
    noiseHU: rng.uniform(10, 16),
    bowel,
    liverHU: rng.uniform(100, 125),
    aortaHU: rng.uniform(180, 260),
  };
}

/** The cross-section of a kidney at height z, or undefined where the slice misses it. */
export function kidneySection(k: KidneyAnatomy, zMm: number): Ellipse | undefined {
  const t = (zMm - k.zCentreMm) / k.halfLengthMm;
  if (Math.abs(t) >= 1) return undefined;
  const f = Math.sqrt(1 - t * t);
  if (f < 0.25) return undefined;
  return { xMm: k.xMm, yMm: k.yMm, aMm: k.aMm * f, bMm: k.bMm * f, angleRad: k.angleRad };
}

/** A noise-free slice: the HU of each tissue before blur and noise, and which kidney covers each pixel. */
export interface TissueSlice {
  /** HU per pixel, row-major (row = j, posterior-going; column = i, patient-left-going). */
  readonly hu: Float32Array;
  /** 0 = not kidney, 1 = left kidney, 2 = right kidney. */
  readonly kidneyId: Uint8Array;
}

/** Paints the noise-free tissue map of slice `k`. */
export function paintTissue(anatomy: PhantomAnatomy, geometry: PhantomGeometry, k: number): TissueSlice {
  const grid: SliceGrid = { width: geometry.width, height: geometry.height, pixelMm: geometry.pixelMm };
  const n = grid.width * grid.height;
  const hu = new Float32Array(n).fill(-1000);
  const kidneyId = new Uint8Array(n);
  const z = (k + 0.5) * geometry.sliceMm;
  const a = anatomy;
  const sx = a.bodyShiftXMm;
  const backY = a.bodyBMm * 0.82; // the patient lies on a table: a flattened back
  const ell = (xMm: number, yMm: number, aMm: number, bMm: number, angleRad = 0): Ellipse => ({
    xMm: xMm + sx,
    yMm,
    aMm,
    bMm,
    angleRad,
  });

  // Body wall: skin, subcutaneous fat, muscle, then the visceral cavity.
  fillEllipse(grid, hu, ell(0, 0, a.bodyAMm, a.bodyBMm), 35, backY);
  fillEllipse(grid, hu, ell(0, 0, a.bodyAMm - 2.5, a.bodyBMm - 2.5), -105, backY - 2.5);
  const innerA = a.bodyAMm - 2.5 - a.fatMm;
  const innerB = a.bodyBMm - 2.5 - a.fatMm * 0.8;
  fillEllipse(grid, hu, ell(0, 0, innerA, innerB), 52, backY - 2.5 - a.fatMm * 0.6);
  fillEllipse(grid, hu, ell(0, -4, innerA - a.wallMm, innerB - a.wallMm), -92, backY - a.fatMm - a.wallMm);

  const vy = a.vertebraYMm;
  // Paraspinal muscles.
  fillEllipse(grid, hu, ell(-32, vy + 38, 24, 20, -0.2), 55);
  fillEllipse(grid, hu, ell(32, vy + 38, 24, 20, 0.2), 55);
  // Bowel loops (drift with z), painted before the solid organs.
  for (const loop of a.bowel) {
    if (z < loop.zFromMm || z > loop.zToMm) continue;
    const x = loop.xMm + 12 * Math.sin(z / 35 + loop.phase);
    const y = loop.yMm + 8 * Math.cos(z / 45 + loop.phase);
    const wall = ell(x, y, loop.rMm, loop.rMm * 0.85, loop.phase);
    fillEllipse(grid, hu, wall, 42);
    fillEllipse(grid, hu, { ...wall, aMm: wall.aMm - 2.5, bMm: wall.bMm - 2.5 }, loop.contentHU);
  }
  // Liver (patient's right = negative x) and spleen (left, posterior), in the upper slices.
  const liverScale = clamp01((z - a.liverBottomMm) / 30);
  if (liverScale > 0) {
    fillEllipse(grid, hu, ell(-58, 0, 72 * (0.5 + 0.5 * liverScale), 68 * (0.45 + 0.55 * liverScale), 0.3), a.liverHU);
  }
  const spleenScale = clamp01((z - a.spleenBottomMm) / 25);
  if (spleenScale > 0) {
    fillEllipse(grid, hu, ell(82, 28, 24 * spleenScale + 6, 45 * spleenScale + 8, 0.6), 118);
  }
  // Psoas muscles grow towards the lower slices.
  const psoas = clamp01(1 - z / (geometry.slices * geometry.sliceMm * 0.75));
  if (psoas > 0.05) {
    fillEllipse(grid, hu, ell(-30, vy - 2, 8 + 14 * psoas, 7 + 10 * psoas, 0.4), 50);
    fillEllipse(grid, hu, ell(30, vy - 2, 8 + 14 * psoas, 7 + 10 * psoas, -0.4), 50);
  }
  // Kidneys: perirenal fat, cortex, medullary pyramids, renal sinus near the hilum.
  for (const [index, kidney] of a.kidneys.entries()) {
    const section = kidneySection(kidney, z);
    if (!section) continue;
    const s = { ...section, xMm: section.xMm + sx };
    fillEllipse(grid, hu, { ...s, aMm: s.aMm + 6, bMm: s.bMm + 5 }, -95);
    forEachPixelInEllipse(grid, s, (p) => {
      hu[p] = kidney.cortexHU;
      kidneyId[p] = index + 1;
    });
    const medial = kidney.side === "left" ? -1 : 1; // towards the spine
    const cos = Math.cos(s.angleRad);
    const sin = Math.sin(s.angleRad);
    const along = (u: number, v: number): [number, number] => [s.xMm + u * cos - v * sin, s.yMm + u * sin + v * cos];
    const t = Math.abs(z - kidney.zCentreMm) / kidney.halfLengthMm;
    for (let m = 0; m < 5; m++) {
      const theta = (m / 5) * 2 * Math.PI + 0.4;
      const [px, py] = along(Math.cos(theta) * s.aMm * 0.52, Math.sin(theta) * s.bMm * 0.5);
      fillEllipse(grid, hu, { xMm: px, yMm: py, aMm: s.aMm * 0.22, bMm: s.bMm * 0.2, angleRad: theta }, kidney.medullaHU);
    }
    if (t < 0.45) {
      const [hx, hy] = along(medial * Math.sign(cos || 1) * s.aMm * 0.55, 0);
      fillEllipse(grid, hu, { xMm: hx, yMm: hy, aMm: s.aMm * 0.42, bMm: s.bMm * 0.3, angleRad: s.angleRad }, -70);
      fillEllipse(grid, hu, { xMm: hx, yMm: hy, aMm: s.aMm * 0.18, bMm: s.bMm * 0.12, angleRad: s.angleRad }, a.aortaHU - 40);
    }
  }
  // Great vessels and the spine.
  fillEllipse(grid, hu, ell(14, vy - 26, 11, 11), a.aortaHU);
  fillEllipse(grid, hu, ell(-22, vy - 24, 14, 9, 0.2), a.aortaHU - 70);
  fillEllipse(grid, hu, ell(0, vy + 34, 6, 16), 520);
  fillEllipse(grid, hu, ell(0, vy + 20, 18, 9), 420);
  fillEllipse(grid, hu, ell(0, vy + 21, 8, 7), 15);
  fillEllipse(grid, hu, ell(0, vy, 18, 16), 720);
  fillEllipse(grid, hu, ell(0, vy, 15.5, 13.5), 240);
  // Ribs in the upper slices, along the inner body wall.
  const ribs = clamp01((z - a.liverBottomMm + 10) / 30);
  if (ribs > 0) {
    for (const angle of [0.5, 0.9, 1.3, Math.PI - 0.5, Math.PI - 0.9, Math.PI - 1.3]) {
      const rx = Math.cos(angle) * (innerA - a.wallMm * 0.5);
      const ry = Math.sin(angle) * (innerB - a.wallMm * 0.5) * 0.9;
      fillEllipse(grid, hu, ell(rx, ry, 6, 3.5, angle + Math.PI / 2), 650);
    }
  }
  // The kidney label is the parenchyma that stays visible: not sinus fat, hilar vessels or ribs.
  for (let p = 0; p < n; p++) {
    const id = kidneyId[p]!;
    if (id === 0) continue;
    const kidney = a.kidneys[id - 1]!;
    if (hu[p] !== Math.fround(kidney.cortexHU) && hu[p] !== Math.fround(kidney.medullaHU)) kidneyId[p] = 0;
  }
  return { hu, kidneyId };
}

/**
 * Turns a tissue map into a CT-like slice: partial-volume blur, low-frequency organ texture and
 * correlated (not white) noise of standard deviation `noiseHU`. `noise` is the slice's noise field
 * (see {@link drawNoiseField}) so that two renders of one slice (with and without a lesion) share it.
 */
export function renderSlice(tissueHU: Float32Array, geometry: PhantomGeometry, noise: Float32Array): Float32Array {
  const out = gaussianBlur2D(tissueHU, geometry.width, geometry.height, 0.7);
  for (let p = 0; p < out.length; p++) out[p] = Math.max(-1024, out[p]! + noise[p]!);
  return out;
}

/** Correlated noise plus a smooth texture for one slice, drawn from the PRNG. */
export function drawNoiseField(rng: Prng, geometry: PhantomGeometry, noiseHU: number): Float32Array {
  const { width, height } = geometry;
  const white = rng.fillNormal(new Float32Array(width * height));
  const fine = gaussianBlur2D(white, width, height, 0.85);
  // Blurring white noise with σ shrinks its std by ≈ 1 / (2σ√π); rescale to the target.
  const fineGain = noiseHU * 2 * 0.85 * Math.sqrt(Math.PI);
  const coarse = gaussianBlur2D(rng.fillNormal(new Float32Array(width * height)), width, height, 3);
  const coarseGain = 5 * 2 * 3 * Math.sqrt(Math.PI);
  for (let p = 0; p < fine.length; p++) fine[p] = fine[p]! * fineGain + coarse[p]! * coarseGain;
  return fine;
}

function clamp01(v: number): number {
  return v < 0 ? 0 : v > 1 ? 1 : v;
}
