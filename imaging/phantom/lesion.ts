// Irregular 3D kidney lesions for the kidney-lesion benchmark (stand-in for real tumours).
import type { Prng } from "../random/prng.ts";
import { kidneySection, type PhantomAnatomy } from "./abdomen-phantom.ts";

/** A lesion: a union of spheres with a wavy boundary, hypo- or hyper-dense, possibly exophytic. */
export interface Lesion {
  readonly spheres: readonly { xMm: number; yMm: number; zMm: number; rMm: number }[];
  readonly waves: readonly { kx: number; ky: number; kz: number; phase: number; amp: number }[];
  readonly meanHU: number;
  readonly textureHU: number;
  readonly necroticHU: number | undefined;
  readonly kidneyIndex: 0 | 1;
  readonly exophytic: boolean;
}

/**
 * Draws a lesion inside (or bulging out of) one kidney. Radius 7–28 mm; 60 % hypodense
 * (15–55 HU), 40 % hyperdense (+40–90 HU over the cortex); large ones get a necrotic core.
 */
export function drawLesion(rng: Prng, anatomy: PhantomAnatomy): Lesion {
  const kidneyIndex = rng.chance(0.5) ? 0 : 1;
  const k = anatomy.kidneys[kidneyIndex];
  const exophytic = rng.chance(0.3);
  const zMm = k.zCentreMm + rng.uniform(-0.6, 0.6) * k.halfLengthMm;
  const section = kidneySection(k, zMm) ?? kidneySection(k, k.zCentreMm)!;
  const theta = rng.uniform(0, 2 * Math.PI);
  const radial = exophytic ? rng.uniform(0.85, 1.05) : rng.uniform(0, 0.6);
  const u = Math.cos(theta) * section.aMm * radial;
  const v = Math.sin(theta) * section.bMm * radial;
  const cos = Math.cos(section.angleRad);
  const sin = Math.sin(section.angleRad);
  const cx = section.xMm + u * cos - v * sin;
  const cy = section.yMm + u * sin + v * cos;
  const r0 = rng.uniform(7, 28);
  const spheres = [{ xMm: cx, yMm: cy, zMm, rMm: r0 }];
  const extra = rng.int(1, 3);
  for (let n = 0; n < extra; n++) {
    spheres.push({
      xMm: cx + rng.normal() * r0 * 0.4,
      yMm: cy + rng.normal() * r0 * 0.4,
      zMm: zMm + rng.normal() * r0 * 0.4,
      rMm: r0 * rng.uniform(0.45, 0.8),
    });
  }
  const waves = Array.from({ length: 4 }, () => ({
    kx: rng.normal() * 0.25,
    ky: rng.normal() * 0.25,
    kz: rng.normal() * 0.25,
    phase: rng.uniform(0, 2 * Math.PI),
    amp: rng.uniform(0.05, 0.12),
  }));
  const hypo = rng.chance(0.6);
  return {
    spheres,
    waves,
    meanHU: hypo ? rng.uniform(15, 55) : k.cortexHU + rng.uniform(40, 90),
    textureHU: rng.uniform(6, 16),
    necroticHU: r0 > 18 && rng.chance(0.5) ? rng.uniform(-5, 15) : undefined,
    kidneyIndex,
    exophytic,
  };
}

/**
 * Level-set value of the lesion at a point (mm): > 0 inside. Also returns the inner core value
 * used for the necrotic centre.
 */
export function lesionField(lesion: Lesion, xMm: number, yMm: number, zMm: number): number {
  let best = -Infinity;
  for (const s of lesion.spheres) {
    const dx = xMm - s.xMm;
    const dy = yMm - s.yMm;
    const dz = zMm - s.zMm;
    const f = 1 - (dx * dx + dy * dy + dz * dz) / (s.rMm * s.rMm);
    if (f > best) best = f;
  }
  if (best < -0.6) return best;
  let wave = 0;
  for (const w of lesion.waves) wave += w.amp * Math.cos(w.kx * xMm + w.ky * yMm + w.kz * zMm + w.phase);
  return best + wave;
}

/** Bounding radius (mm) of the lesion around its first sphere's centre. */
export function lesionExtentMm(lesion: Lesion): number {
  const c = lesion.spheres[0]!;
  let r = 0;
  for (const s of lesion.spheres) {
    const d = Math.hypot(s.xMm - c.xMm, s.yMm - c.yMm, s.zMm - c.zMm) + s.rMm * 1.3;
    if (d > r) r = d;
  }
  return r;
}
