// Persistence of segmentation jobs and their results (organisation-scoped).
import type { InferenceTaskV1 } from "../domain/inference-task.ts";
import type { SegmentationJob } from "../domain/segmentation-job.ts";
import type { SliceResult } from "../domain/slice-result.ts";
import type { SliceResultSink } from "./slice-result-sink.port.ts";

/** A job to create. */
export type NewSegmentationJob = Omit<SegmentationJob, "id" | "status" | "completedSlices" | "failedSlices" | "errorCode" | "createdAt" | "startedAt" | "finishedAt"> & {
  readonly createdById: string | null;
};

/** Job persistence (adapters/prisma/prisma-job-repository.ts). */
export interface JobRepository extends SliceResultSink {
  /**
   * Stores the job and its tasks' outbox messages in one transaction (transactional outbox):
   * the tasks are built by `buildTasks` from the new job id.
   */
  createWithTasks(job: NewSegmentationJob, buildTasks: (jobId: string) => InferenceTaskV1[]): Promise<SegmentationJob>;
  findJob(organizationId: string, jobId: string): Promise<SegmentationJob | null>;
  /** Jobs of many studies, newest first, keyed by study id. */
  jobsByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, SegmentationJob[]>>;
  /** Results of a job with sliceIndex > afterSliceIndex, in sliceIndex order. */
  resultsAfter(organizationId: string, jobId: string, afterSliceIndex: number): Promise<SliceResult[]>;
  /**
   * Results of many jobs in one read (for DataLoader): for each job id in `afterSliceIndexByJob`,
   * its results with sliceIndex > that job's value, in sliceIndex order, keyed by job id. Jobs of
   * other organisations and jobs without results are absent from the map.
   */
  resultsAfterByJob(organizationId: string, afterSliceIndexByJob: ReadonlyMap<string, number>): Promise<Map<string, SliceResult[]>>;
  /** Results of many slices (all jobs), keyed by slice id. */
  resultsBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, SliceResult[]>>;
}
