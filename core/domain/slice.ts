// A slice: one axial 2D image of a series; its pixels live in the object store.

/** A slice as services return it. */
export interface Slice {
  readonly id: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly seriesId: string;
  /** k index inside the series. */
  readonly sliceIndex: number;
  readonly width: number;
  readonly height: number;
  /** In-plane pixel size [column (i), row (j)] in millimetres. */
  readonly spacingMm: readonly [number, number];
  /** Patient-space position (mm, LPS) of pixel (row 0, column 0). */
  readonly positionLPS: readonly [number, number, number];
  /** Object-store key of the pixels: little-endian float32, row-major, HU (or raw for PNG). */
  readonly storageKey: string;
}
