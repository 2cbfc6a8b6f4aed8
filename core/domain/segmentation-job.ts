// A request to segment some or all slices of a study with one method and model.
import type { JobStatus, SegmentationMethod } from "./enums.ts";

/** A segmentation job as services return it. */
export interface SegmentationJob {
  readonly id: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly method: SegmentationMethod;
  readonly modelKey: string;
  /** Method parameters (e.g. RISE's N, s, p1), JSON. */
  readonly params: Readonly<Record<string, unknown>>;
  readonly status: JobStatus;
  readonly totalSlices: number;
  readonly completedSlices: number;
  readonly failedSlices: number;
  readonly errorCode: string | null;
  readonly createdAt: Date;
  readonly startedAt: Date | null;
  readonly finishedAt: Date | null;
}

/** Where a job's masks are served as a NIfTI label volume (GET, same credentials as GraphQL), relative to the API's origin. */
export function jobMasksPath(jobId: string): string {
  return `/jobs/${encodeURIComponent(jobId)}/masks.nii.gz`;
}
