// Events published on the ResultBus while a job runs (versioned contract).
import type { JobStatus } from "./enums.ts";
import type { SliceResult } from "./slice-result.ts";

/**
 * A job event, schema version 1. `kind` SLICE_RESULT carries the stored result;
 * STATUS carries the job's new status and progress counts.
 */
export type JobEventV1 =
  | {
      readonly schemaVersion: 1;
      readonly kind: "SLICE_RESULT";
      readonly organizationId: string;
      readonly jobId: string;
      readonly result: SliceResult;
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
