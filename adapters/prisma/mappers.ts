// Row → domain conversions shared by the Prisma repositories.
import type * as Rows from "../../generated/prisma/client.ts";
import type { Study } from "../../core/domain/study.ts";
import type { Series } from "../../core/domain/series.ts";
import type { Slice } from "../../core/domain/slice.ts";
import type { Label } from "../../core/domain/label.ts";
import type { GroundTruthMask } from "../../core/domain/ground-truth-mask.ts";
import type { SegmentationJob } from "../../core/domain/segmentation-job.ts";
import type { SliceResult } from "../../core/domain/slice-result.ts";
import type { ModelEntry } from "../../core/domain/model-entry.ts";

type Vec3 = [number, number, number];

/** Maps database rows to the core's read models. */
export const toDomain = {
  study: (r: Rows.Study): Study => ({
    id: r.id, organizationId: r.organizationId, title: r.title, studyInstanceUID: r.studyInstanceUID,
    status: r.status, createdAt: r.createdAt, updatedAt: r.updatedAt,
  }),
  series: (r: Rows.Series): Series => ({
    id: r.id, organizationId: r.organizationId, studyId: r.studyId, seriesInstanceUID: r.seriesInstanceUID,
    description: r.description, sourceFormat: r.sourceFormat, dimsIJK: r.dimsIJK as Vec3, spacingMm: r.spacingMm as Vec3,
    originLPS: r.originLPS as Vec3, directionLPS: r.directionLPS, createdAt: r.createdAt,
  }),
  slice: (r: Rows.Slice): Slice => ({
    id: r.id, organizationId: r.organizationId, studyId: r.studyId, seriesId: r.seriesId, sliceIndex: r.sliceIndex,
    width: r.width, height: r.height, spacingMm: r.spacingMm as [number, number], positionLPS: r.positionLPS as Vec3,
    storageKey: r.storageKey,
  }),
  label: (r: Rows.Label): Label => ({
    id: r.id, organizationId: r.organizationId, studyId: r.studyId, sliceId: r.sliceId, value: r.value,
    authorId: r.authorId, createdAt: r.createdAt,
  }),
  groundTruth: (r: Rows.GroundTruthMask): GroundTruthMask => ({
    id: r.id, organizationId: r.organizationId, sliceId: r.sliceId, width: r.width, height: r.height, rle: r.rle,
  }),
  job: (r: Rows.SegmentationJob): SegmentationJob => ({
    id: r.id, organizationId: r.organizationId, studyId: r.studyId, method: r.method, modelKey: r.modelKey,
    params: (r.params ?? {}) as Record<string, unknown>, status: r.status, totalSlices: r.totalSlices,
    completedSlices: r.completedSlices, failedSlices: r.failedSlices, errorCode: r.errorCode, createdAt: r.createdAt,
    startedAt: r.startedAt, finishedAt: r.finishedAt,
  }),
  result: (r: Rows.SliceResult): SliceResult => ({
    id: r.id, organizationId: r.organizationId, jobId: r.jobId, sliceId: r.sliceId, sliceIndex: r.sliceIndex,
    width: r.width, height: r.height, maskRle: r.maskRle, bbox: r.bbox, areaPx: r.areaPx,
    pAbnormalBefore: r.pAbnormalBefore, pAbnormalAfter: r.pAbnormalAfter, flipped: r.flipped,
    timingsMs: (r.timingsMs ?? {}) as Record<string, number>, createdAt: r.createdAt,
  }),
  model: (r: Rows.Model): ModelEntry => ({
    id: r.id, key: r.key, kind: r.kind, version: r.version, sha256: r.sha256, spec: (r.spec ?? {}) as Record<string, unknown>,
  }),
};

/** Groups items by a key into a Map, keeping input order inside each group. */
export function groupBy<T>(items: readonly T[], key: (item: T) => string): Map<string, T[]> {
  const out = new Map<string, T[]>();
  for (const item of items) {
    const k = key(item);
    const list = out.get(k);
    if (list) list.push(item);
    else out.set(k, [item]);
  }
  return out;
}
