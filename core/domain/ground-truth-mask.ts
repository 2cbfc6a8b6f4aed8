// A reference mask for evaluation.

/** Ground truth of one slice, run-length encoded (see rle.ts). */
export interface GroundTruthMask {
  readonly id: string;
  readonly organizationId: string;
  readonly sliceId: string;
  readonly width: number;
  readonly height: number;
  readonly rle: readonly number[];
}
