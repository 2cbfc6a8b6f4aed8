// Events published on the ResultBus while a job runs (versioned contract, PROTOCOL.md §6).
import type { JobStatus } from "./enums.ts";
import type { SliceResult } from "./slice-result.ts";

/** A job's progress counts, in slices. */
export interface JobProgressCounts {
  readonly completedSlices: number;
  readonly failedSlices: number;
  readonly totalSlices: number;
}

/**
 * A job event, schema version 1. `kind` SLICE_RESULT carries the stored result and, from publishers
 * that know it, the job's counts right after that result was stored (`progress`: optional, so events
 * of older publishers stay valid; a subscriber without it reads the counts from the database).
 * STATUS carries the job's new status and progress counts.
 */
export type JobEventV1 =
  | {
      readonly schemaVersion: 1;
      readonly kind: "SLICE_RESULT";
      readonly organizationId: string;
      readonly jobId: string;
      readonly result: SliceResult;
      /**
       * The job's counts once this result was stored: those of the result write that stored it, as if
       * that write's new results had been stored one by one in event order (a batch of k new results
       * counts completedSlices − k + 1 … completedSlices). Counts only grow, but events of different
       * workers may arrive out of order: keep the largest seen.
       */
      readonly progress?: JobProgressCounts;
    }
  | {
      readonly schemaVersion: 1;
      readonly kind: "STATUS";
      readonly organizationId: string;
      readonly jobId: string;
      readonly status: JobStatus;
      readonly completedSlices: number;
      readonly failedSlices: number;
      readonly totalSlices: number;
      readonly errorCode: string | null;
    };
