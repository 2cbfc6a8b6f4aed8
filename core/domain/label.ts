// An image-level label on a slice or on a whole study.
import type { LabelValue } from "./enums.ts";

/** A label; `sliceId` null means a study-level label. */
export interface Label {
  readonly id: string;
  readonly organizationId: string;
  readonly studyId: string;
  readonly sliceId: string | null;
  readonly value: LabelValue;
  readonly authorId: string | null;
  readonly createdAt: Date;
}
