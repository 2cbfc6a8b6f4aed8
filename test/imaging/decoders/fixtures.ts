// Small in-code volumes shared by the decoder tests.
import type { Volume } from "../../../imaging/volume.ts";

type Dir = readonly [readonly [number, number, number], readonly [number, number, number], readonly [number, number, number]];

/**
 * A small HU volume whose voxel values encode their index: HU = i + 10·j + 100·k − 1000 (so every
 * voxel is distinct and order mistakes show), with the given geometry.
 */
export function indexVolume(
  dimsIJK: readonly [number, number, number] = [5, 4, 3],
  geometry: { spacingMm?: readonly [number, number, number]; originLPS?: readonly [number, number, number]; directionLPS?: Dir } = {},
): Volume<Int16Array> {
  const [nx, ny, nz] = dimsIJK;
  const data = new Int16Array(nx * ny * nz);
  for (let k = 0; k < nz; k++) for (let j = 0; j < ny; j++) for (let i = 0; i < nx; i++) data[i + j * nx + k * nx * ny] = i + 10 * j + 100 * k - 1000;
  return {
    dimsIJK,
    spacingMm: geometry.spacingMm ?? [0.7, 0.8, 2.5],
    originLPS: geometry.originLPS ?? [-120.5, 33.25, 410],
    directionLPS: geometry.directionLPS ?? [
      [1, 0, 0],
      [0, 1, 0],
      [0, 0, 1],
    ],
    unit: "HU",
    data,
  };
}

/** An oblique right-handed direction: rotation of 30° about z then 20° about x. */
export function obliqueDirection(): Dir {
  const a = (30 * Math.PI) / 180;
  const b = (20 * Math.PI) / 180;
  const i = [Math.cos(a), Math.sin(a) * Math.cos(b), Math.sin(a) * Math.sin(b)] as const;
  const j0 = [-Math.sin(a), Math.cos(a), 0];
  const j = [j0[0]!, j0[1]! * Math.cos(b), j0[1]! * Math.sin(b)] as const;
  const k = [i[1] * j[2] - i[2] * j[1], i[2] * j[0] - i[0] * j[2], i[0] * j[1] - i[1] * j[0]] as const;
  return [i, j, k];
}

/** Asserts-friendly max absolute difference between two number lists. */
export function maxAbsDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  if (a.length !== b.length) return Infinity;
  let m = 0;
  for (let n = 0; n < a.length; n++) m = Math.max(m, Math.abs(a[n]! - b[n]!));
  return m;
}
