// A study: the unit a user imports, labels and segments.
import type { StudyStatus } from "./enums.ts";

/** A study as services return it. */
export interface Study {
  readonly id: string;
  readonly organizationId: string;
  readonly title: string;
  readonly studyInstanceUID: string | null;
  readonly status: StudyStatus;
  readonly createdAt: Date;
  readonly updatedAt: Date;
}
