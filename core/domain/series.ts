// A series: one image volume of a study, with its geometry.

/** A series as services return it. Geometry follows imaging/volume.ts (LPS, millimetres). */
export interface Series {
  readonly id: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly seriesInstanceUID: string | null;
  readonly description: string;
  /** NIFTI, DICOM or PNG. */
  readonly sourceFormat: string;
  readonly dimsIJK: readonly [number, number, number];
  readonly spacingMm: readonly [number, number, number];
  readonly originLPS: readonly [number, number, number];
  /** Row-major 3×3 direction cosines of the i, j, k axes in LPS. */
  readonly directionLPS: readonly number[];
  readonly createdAt: Date;
}
