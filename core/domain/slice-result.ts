// The outcome of segmenting one slice in one job.

/** What a worker computes for one slice (before it is stored). */
export interface SliceResultInput {
  readonly jobId: string;
  readonly sliceId: string;
  readonly width: number;
  readonly height: number;
  /** Mask runs, see rle.ts. */
  readonly maskRle: readonly number[];
  /** [minCol, minRow, maxCol, maxRow] inclusive, or [] for an empty mask. */
  readonly bbox: readonly number[];
  readonly areaPx: number;
  /** Classifier P(abnormal) of the input slice. */
  readonly pAbnormalBefore: number;
  /** Classifier P(abnormal) of the counterfactual (equal to before for saliency methods). */
  readonly pAbnormalAfter: number;
  /** True when the counterfactual flipped the classifier's decision to normal. */
  readonly flipped: boolean;
  /** Per-stage timings in milliseconds, e.g. { preprocess: 1.1, infer: 14.2, postprocess: 0.4 }. */
  readonly timingsMs: Readonly<Record<string, number>>;
}

/** A stored slice result. */
export interface SliceResult extends SliceResultInput {
  readonly id: string;
  readonly organizationId: string;
  readonly sliceIndex: number;
  readonly createdAt: Date;
}
