// The in-memory volume every decoder produces and every consumer reads.

/** Voxel storage types a volume may carry. HU volumes are Int16Array or Float32Array. */
export type VoxelArray = Int16Array | Float32Array | Uint8Array | Uint16Array;

/**
 * A 3D image on a regular grid.
 *
 * - `dimsIJK` = [nx, ny, nz]; voxel (i, j, k) lives at `data[i + j*nx + k*nx*ny]`.
 * - A 2D slice displayed as an image has row = j, column = i.
 * - `spacingMm` is the voxel size along i, j, k in millimetres.
 * - `originLPS` is the patient-space position (mm, DICOM LPS) of voxel (0, 0, 0)'s centre.
 * - `directionLPS` holds the unit vectors of the i, j and k axes in LPS, row by row:
 *   [[ix, iy, iz], [jx, jy, jz], [kx, ky, kz]].
 * - `unit` says what the voxel values mean: "HU" for CT intensities, "label" for label maps,
 *   "raw" when a decoder could not establish HU (e.g. a PNG).
 */
export interface Volume<T extends VoxelArray = VoxelArray> {
  readonly dimsIJK: readonly [number, number, number];
  readonly spacingMm: readonly [number, number, number];
  readonly originLPS: readonly [number, number, number];
  readonly directionLPS: readonly [
    readonly [number, number, number],
    readonly [number, number, number],
    readonly [number, number, number],
  ];
  readonly unit: "HU" | "label" | "raw";
  readonly data: T;
  /** Selected, de-identified metadata (never patient-identifying). */
  readonly meta?: Readonly<Record<string, string | number>>;
}

/** A 2D image, row-major: pixel (row, col) at `data[row*width + col]`. */
export interface Image2D<T extends VoxelArray | Float64Array = Float32Array> {
  readonly width: number;
  readonly height: number;
  readonly data: T;
}

/** The identity direction (axes aligned with LPS). */
export const IDENTITY_DIRECTION_LPS = [
  [1, 0, 0],
  [0, 1, 0],
  [0, 0, 1],
] as const;

/** Number of voxels of a volume's grid. */
export function voxelCount(dimsIJK: readonly [number, number, number]): number {
  return dimsIJK[0] * dimsIJK[1] * dimsIJK[2];
}

/** Copies slice k of a volume out as a row-major 2D image (row = j, column = i), as float32. */
export function sliceK(volume: Volume, k: number): Image2D<Float32Array> {
  const [nx, ny, nz] = volume.dimsIJK;
  if (!Number.isInteger(k) || k < 0 || k >= nz) throw new RangeError(`slice index ${k} outside 0..${nz - 1}`);
  const out = new Float32Array(nx * ny);
  const base = k * nx * ny;
  for (let p = 0; p < nx * ny; p++) out[p] = volume.data[base + p]!;
  return { width: nx, height: ny, data: out };
}
