// Persistence of studies, series and slices. Every method takes the caller's organisation id and
// behaves as if rows of other organisations did not exist.
import type { StudyStatus, LabelValue } from "../domain/enums.ts";
import type { Page } from "../domain/page.ts";
import type { Series } from "../domain/series.ts";
import type { Slice } from "../domain/slice.ts";
import type { Study } from "../domain/study.ts";

/** Filter of {@link StudyRepository.listStudies}. */
export interface StudyFilter {
  readonly status?: StudyStatus | null;
  /** Only studies having at least one label (study- or slice-level) with this value. */
  readonly label?: LabelValue | null;
}

/** A series to store together with its slices by {@link StudyRepository.attachSeries}. */
export interface NewSeries {
  readonly seriesInstanceUID: string | null;
  /** The (mapped) DICOM StudyInstanceUID of the series; when given, it becomes the study's. */
  readonly studyInstanceUID?: string | null;
  readonly description: string;
  readonly sourceFormat: string;
  readonly dimsIJK: readonly [number, number, number];
  readonly spacingMm: readonly [number, number, number];
  readonly originLPS: readonly [number, number, number];
  readonly directionLPS: readonly number[];
  readonly slices: readonly Omit<Slice, "id" | "organizationId" | "studyId" | "seriesId">[];
}

/** Study, series and slice persistence (adapters/prisma/prisma-study-repository.ts). */
export interface StudyRepository {
  createStudy(organizationId: string, input: { title: string; createdById: string | null }): Promise<Study>;
  findStudy(organizationId: string, studyId: string): Promise<Study | null>;
  /** Studies by id; missing or foreign ids are absent from the map. */
  findStudies(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Study>>;
  /** Newest first; the cursor key is [createdAt ISO, id]. */
  listStudies(organizationId: string, filter: StudyFilter, first: number, after: readonly [string, string] | null): Promise<Page<Study>>;
  /** Deletes the study and everything under it. Returns false when it did not exist. */
  deleteStudy(organizationId: string, studyId: string): Promise<boolean>;
  /** Stores a series and its slices and sets the study READY (and its studyInstanceUID when the series has one), in one transaction. */
  attachSeries(organizationId: string, studyId: string, series: NewSeries): Promise<Series>;
  /** Series of many studies at once (for DataLoader), keyed by study id. */
  seriesByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Series[]>>;
  /** Slices of many studies, ordered by series then sliceIndex, keyed by study id. */
  slicesByStudy(organizationId: string, studyIds: readonly string[]): Promise<Map<string, Slice[]>>;
  /** Slices by id; missing or foreign ids are absent from the map. */
  findSlices(organizationId: string, sliceIds: readonly string[]): Promise<Map<string, Slice>>;
}
