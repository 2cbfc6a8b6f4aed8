// Persistence of labels and ground-truth masks (organisation-scoped).
import type { LabelValue } from "../domain/enums.ts";
import type { GroundTruthMask } from "../domain/ground-truth-mask.ts";
import type { Label } from "../domain/label.ts";

/** One label to set; `sliceId` null sets the study-level label. */
export interface LabelAssignment {
  readonly sliceId: string | null;
  readonly value: LabelValue;
}

/** Label persistence (adapters/prisma/prisma-label-repository.ts). */
export interface LabelRepository {
  /**
   * Replaces the current label of each target (slice or study) with the given value, all in one
   * transaction, and returns the new labels in input order.
   */
  setLabels(organizationId: string, studyId: string, authorId: string | null, labels: readonly LabelAssignment[]): Promise<Label[]>;
  /** Labels of many studies (study- and slice-level), keyed by study id. */
  labelsByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Label[]>>;
  /** Labels of many slices, keyed by slice id. */
  labelsBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, Label[]>>;
  /** Ground-truth masks of many slices, keyed by slice id. */
  groundTruthBySlice(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, GroundTruthMask>>;
  /**
   * Replaces the ground truth of every given slice, all in one transaction (none is written when
   * one fails). The caller checks that the slices are the organisation's.
   */
  replaceGroundTruth(organizationId: string, masks: readonly Omit<GroundTruthMask, "id" | "organizationId">[]): Promise<void>;
  /** Stores (or replaces) the ground truth of one slice. */
  putGroundTruth(organizationId: string, mask: Omit<GroundTruthMask, "id" | "organizationId">): Promise<GroundTruthMask>;
}
