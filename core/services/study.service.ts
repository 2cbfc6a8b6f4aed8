// Use cases on studies: create, list, read, delete, request an upload, import pixels and reference masks, set labels.
import { randomUUID } from "node:crypto";
import { authorize } from "../domain/authorize.ts";
import { decodeCursor } from "../domain/cursor.ts";
import { isUuid } from "../domain/is-uuid.ts";
import type { Principal } from "../domain/principal.ts";
import type { Study } from "../domain/study.ts";
import type { Series } from "../domain/series.ts";
import { decodeSlicePixels, type Slice } from "../domain/slice.ts";
import type { Label } from "../domain/label.ts";
import type { Page } from "../domain/page.ts";
import type { GroundTruthMask } from "../domain/ground-truth-mask.ts";
import { encodeRle } from "../domain/rle.ts";
import type { Volume } from "../../imaging/volume.ts";
import { DomainError, isDomainError } from "../errors/domain-error.ts";
import type { ErrorCode } from "../errors/error-codes.ts";
import { IMAGING_ERROR_CODES } from "../../imaging/errors/imaging-error.ts";
import type { AuditLog } from "../ports/audit-log.port.ts";
import type { LabelAssignment, LabelRepository } from "../ports/label-repository.port.ts";
import type { ObjectStore, UploadTarget } from "../ports/object-store.port.ts";
import type { StudyFilter, StudyRepository, NewSeries } from "../ports/study-repository.port.ts";
import type { UploadFormat, VolumeDecoder } from "../ports/volume-decoder.port.ts";

/** Limits of {@link StudyService}. */
export interface StudyServiceLimits {
  /** Largest accepted upload, bytes. */
  readonly uploadMaxBytes: number;
  /** Lifetime of an upload URL, seconds. */
  readonly uploadUrlTtlSeconds: number;
  /** Largest page size of list queries. */
  readonly maxPageSize: number;
}

/** Content types accepted by requestUpload, by format. */
const CONTENT_TYPES: Readonly<Record<UploadFormat, readonly string[]>> = {
  NIFTI: ["application/octet-stream", "application/gzip", "application/x-gzip"],
  DICOM: ["application/dicom", "application/octet-stream"],
  PNG: ["image/png"],
};

/**
 * Codes that refuse an upload's content itself (empty, over the limit, bytes no decoder accepts):
 * a retry with the same bytes cannot succeed, so the uploads are deleted.
 */
const REFUSED_CONTENT: ReadonlySet<ErrorCode> = new Set<ErrorCode>(["UPLOAD_EMPTY", "UPLOAD_TOO_LARGE", ...Object.values(IMAGING_ERROR_CODES)]);

/** A requested upload: where to send the bytes, and the key to pass to importStudy. */
export interface UploadTicket extends UploadTarget {
  readonly uploadKey: string;
  readonly maxBytes: number;
}

/**
 * An import's uploads that could not be deleted afterwards. The import's answer stands; the
 * composition root logs this (counts and ids only: never the keys' contents or any header).
 */
export interface UploadCleanupFailure {
  readonly organizationId: string;
  readonly studyId: string;
  /** IMPORTED: after a successful import; REJECTED: after the uploads' content was refused. */
  readonly after: "IMPORTED" | "REJECTED";
  readonly uploadCount: number;
  readonly error: unknown;
}

/** Study use cases. Every method is scoped to the principal's organisation. */
export class StudyService {
  /**
   * @param onUploadCleanupFailed called when an import's uploads could not be deleted (best
   *   effort); default: ignored.
   */
  constructor(
    private readonly studies: StudyRepository,
    private readonly labels: LabelRepository,
    private readonly store: ObjectStore,
    private readonly decoder: VolumeDecoder,
    private readonly audit: AuditLog,
    private readonly limits: StudyServiceLimits,
    private readonly onUploadCleanupFailed: (failure: UploadCleanupFailure) => void = () => {},
  ) {}

  /** Creates an empty study. Role: ANNOTATOR. @throws BAD_USER_INPUT on an empty title. */
  async createStudy(principal: Principal | null, input: { title: string }): Promise<Study> {
    const p = authorize(principal, "ANNOTATOR");
    const title = input.title.trim();
    if (!title || title.length > 200) throw new DomainError("BAD_USER_INPUT", "title must have 1 to 200 characters", { field: "title" });
    const study = await this.studies.createStudy(p.organizationId, { title, createdById: p.userId });
    await this.audit.record({ organizationId: p.organizationId, actorId: p.userId, action: "study.create", entityType: "Study", entityId: study.id });
    return study;
  }

  /** One study, or NOT_FOUND (also for other organisations' ids). Role: VIEWER. */
  async getStudy(principal: Principal | null, studyId: string): Promise<Study> {
    const p = authorize(principal, "VIEWER");
    const study = isUuid(studyId) ? await this.studies.findStudy(p.organizationId, studyId) : null;
    if (!study) throw new DomainError("NOT_FOUND", "study not found", { entity: "Study" });
    return study;
  }

  /** Newest first, keyset-paginated. Role: VIEWER. @throws BAD_USER_INPUT on a bad `first` or cursor. */
  async listStudies(principal: Principal | null, filter: StudyFilter, first: number, after: string | null): Promise<Page<Study>> {
    const p = authorize(principal, "VIEWER");
    assertPageSize(first, this.limits.maxPageSize);
    const key = after ? (decodeCursor(after, 2) as [string, string]) : null;
    return this.studies.listStudies(p.organizationId, filter, first, key);
  }

  /** Deletes a study, its rows and its pixels. Role: ADMIN. @throws NOT_FOUND */
  async deleteStudy(principal: Principal | null, studyId: string): Promise<string> {
    const p = authorize(principal, "ADMIN");
    await this.getStudy(p, studyId);
    await this.studies.deleteStudy(p.organizationId, studyId);
    await this.store.deletePrefix(`orgs/${p.organizationId}/studies/${studyId}/`);
    await this.audit.record({ organizationId: p.organizationId, actorId: p.userId, action: "study.delete", entityType: "Study", entityId: studyId });
    return studyId;
  }

  /**
   * Returns a URL to upload one object to, and the key to import it with. Role: ANNOTATOR.
   * @throws UPLOAD_TOO_LARGE when `sizeBytes` exceeds the limit, UPLOAD_EMPTY when it is 0,
   *   UNSUPPORTED_FORMAT when the content type does not fit the format.
   */
  async requestUpload(principal: Principal | null, input: { format: UploadFormat; contentType: string; sizeBytes: number }): Promise<UploadTicket> {
    const p = authorize(principal, "ANNOTATOR");
    this.checkSize(input.sizeBytes);
    if (!CONTENT_TYPES[input.format].includes(input.contentType)) {
      throw new DomainError("UNSUPPORTED_FORMAT", `content type ${input.contentType} is not accepted for ${input.format}`, { field: "contentType" });
    }
    const uploadKey = `orgs/${p.organizationId}/uploads/${randomUUID()}`;
    const target = await this.store.createUploadUrl(uploadKey, { ttlSeconds: this.limits.uploadUrlTtlSeconds, contentType: input.contentType });
    return { ...target, uploadKey, maxBytes: this.limits.uploadMaxBytes };
  }

  /**
   * Decodes uploaded objects (one NIfTI or PNG, or the files of one DICOM series) and stores them as
   * a new series of the study, with one slice per k. Role: ANNOTATOR. On any error the study is
   * left unchanged. A DICOM series sets the study's `studyInstanceUID` (the mapped UID) when it has
   * none yet.
   *
   * An upload serves one import attempt that reads it (the raw bytes, DICOM headers included,
   * are not kept): its objects are deleted once the series is stored, and also when their content
   * is refused (UPLOAD_EMPTY, UPLOAD_TOO_LARGE, or an imaging code: such bytes can never import).
   * They are kept, for a retry with the same keys, when the import fails for any other reason
   * (role, unknown study or upload, bad arguments, a declared format that does not match the bytes,
   * INVALID_STATE, a storage or database failure).
   * Deleting is best effort: a failure is reported to `onUploadCleanupFailed`, not to the caller.
   * @throws NOT_FOUND, UPLOAD_NOT_FOUND, UPLOAD_EMPTY, UPLOAD_TOO_LARGE, BAD_USER_INPUT, imaging
   *   codes; INVALID_STATE when the series belongs to another DICOM study than the study's.
   */
  async importStudy(principal: Principal | null, input: { studyId: string; uploadKeys: readonly string[]; format: UploadFormat }): Promise<Study> {
    const p = authorize(principal, "ANNOTATOR");
    const study = await this.getStudy(p, input.studyId);
    const { decoded, uploads } = await this.decodeUploads(p, input);
    const { volume, format } = decoded;
    const studyInstanceUID = typeof volume.meta?.studyInstanceUID === "string" ? volume.meta.studyInstanceUID : null;
    if (studyInstanceUID !== null && study.studyInstanceUID !== null && study.studyInstanceUID !== studyInstanceUID) {
      throw new DomainError("INVALID_STATE", "the series belongs to another DICOM study than the study's other series", { field: "uploadKeys" });
    }
    const [nx, ny, nz] = volume.dimsIJK;
    const seriesKey = randomUUID();
    const prefix = `orgs/${p.organizationId}/studies/${input.studyId}/series/${seriesKey}/`;
    const dir = volume.directionLPS;
    const slices: NewSeries["slices"][number][] = [];
    try {
      for (let k = 0; k < nz; k++) {
        const pixels = new Float32Array(nx * ny);
        const base = k * nx * ny;
        for (let i = 0; i < nx * ny; i++) pixels[i] = volume.data[base + i]!;
        const storageKey = `${prefix}slices/${String(k).padStart(5, "0")}.f32`;
        await this.store.put(storageKey, new Uint8Array(pixels.buffer), "application/octet-stream");
        const dz = volume.spacingMm[2] * k;
        slices.push({
          sliceIndex: k,
          width: nx,
          height: ny,
          spacingMm: [volume.spacingMm[0], volume.spacingMm[1]],
          positionLPS: [0, 1, 2].map((a) => volume.originLPS[a]! + dir[2][a]! * dz) as [number, number, number],
          storageKey,
        });
      }
      await this.studies.attachSeries(p.organizationId, input.studyId, {
        seriesInstanceUID: typeof volume.meta?.seriesInstanceUID === "string" ? volume.meta.seriesInstanceUID : null,
        studyInstanceUID,
        description: "",
        sourceFormat: format,
        dimsIJK: [nx, ny, nz],
        spacingMm: volume.spacingMm,
        originLPS: volume.originLPS,
        directionLPS: dir.flat(),
        slices,
      });
    } catch (error) {
      await this.store.deletePrefix(prefix);
      throw error;
    }
    await this.audit.record({
      organizationId: p.organizationId, actorId: p.userId, action: "study.import", entityType: "Study", entityId: input.studyId,
      data: { format, dimsIJK: [nx, ny, nz] },
    });
    // The pixels now live under the study's keys: the uploads (with their headers) are not needed.
    await this.deleteUploads(uploads, "IMPORTED");
    return this.getStudy(p, input.studyId);
  }

  /**
   * Stores a label volume as the reference masks of every slice of one series (an empty mask where a
   * slice has no foreground), replacing the ones it had, in one transaction. Role: ANNOTATOR.
   * Foreground: the voxels whose value is in `labelValues`, or every non-zero voxel. Uploads are
   * kept or deleted as by {@link importStudy}.
   * @throws NOT_FOUND (study, series), UPLOAD_NOT_FOUND, UPLOAD_EMPTY, UPLOAD_TOO_LARGE, imaging
   *   codes, BAD_USER_INPUT (bad `labelValues`; voxels that are negative or not integers: not a
   *   label volume), GROUND_TRUTH_MISMATCH (the volume's grid is not the series').
   */
  async importGroundTruth(
    principal: Principal | null,
    input: { studyId: string; seriesId: string; uploadKeys: readonly string[]; format: UploadFormat; labelValues?: readonly number[] | null },
  ): Promise<GroundTruthImport> {
    const p = authorize(principal, "ANNOTATOR");
    await this.getStudy(p, input.studyId);
    const series = isUuid(input.seriesId) ? (await this.studies.seriesByStudy(p.organizationId, [input.studyId])).get(input.studyId)?.find((s) => s.id === input.seriesId) : undefined;
    if (!series) throw new DomainError("NOT_FOUND", "series not found", { entity: "Series" });
    const wanted = checkLabelValues(input.labelValues ?? null);
    const { decoded, uploads } = await this.decodeUploads(p, input);
    const { volume } = decoded;
    const mismatch = gridMismatch(volume, series);
    if (mismatch) throw new DomainError("GROUND_TRUTH_MISMATCH", `the label volume's ${mismatch} differs from the series'`, { field: "uploadKeys" });
    const slices = ((await this.studies.slicesByStudy(p.organizationId, [input.studyId])).get(input.studyId) ?? []).filter((s) => s.seriesId === series.id);
    const [nx, ny, nz] = volume.dimsIJK;
    const byIndex = new Map(slices.map((s) => [s.sliceIndex, s]));
    const plane = nx * ny;
    const foreground = new Uint8Array(plane);
    const masks: Omit<GroundTruthMask, "id" | "organizationId">[] = [];
    let positiveSlices = 0;
    let foregroundVoxels = 0;
    for (let k = 0; k < nz; k++) {
      const slice = byIndex.get(k);
      if (!slice) throw new DomainError("INVALID_STATE", `the series has no slice ${k}`, { field: "seriesId" });
      let count = 0;
      for (let i = 0; i < plane; i++) {
        const v = volume.data[k * plane + i]!;
        if (!(v >= 0) || !Number.isInteger(v)) {
          throw new DomainError("BAD_USER_INPUT", "the upload holds negative or fractional values: not a label volume", { field: "uploadKeys" });
        }
        const on = v !== 0 && (wanted === null || wanted.has(v));
        foreground[i] = on ? 1 : 0;
        if (on) count++;
      }
      if (count > 0) positiveSlices++;
      foregroundVoxels += count;
      masks.push({ sliceId: slice.id, width: nx, height: ny, rle: encodeRle(foreground) });
    }
    await this.labels.replaceGroundTruth(p.organizationId, masks);
    await this.audit.record({
      organizationId: p.organizationId, actorId: p.userId, action: "groundTruth.import", entityType: "Series", entityId: series.id,
      data: { slices: masks.length, positiveSlices },
    });
    await this.deleteUploads(uploads, "IMPORTED");
    return { series, slices: masks.length, positiveSlices, foregroundVoxels };
  }

  /**
   * Checks an import's upload keys (each one of the organisation's uploads) and decodes them. When
   * the content is refused (see {@link REFUSED_CONTENT}) the uploads are deleted before the error
   * goes on.
   */
  private async decodeUploads(p: Principal, input: { studyId: string; uploadKeys: readonly string[]; format: UploadFormat }) {
    if (input.uploadKeys.length === 0) throw new DomainError("BAD_USER_INPUT", "uploadKeys is empty", { field: "uploadKeys" });
    if (input.format !== "DICOM" && input.uploadKeys.length > 1) {
      throw new DomainError("BAD_USER_INPUT", `${input.format} imports take exactly one upload`, { field: "uploadKeys" });
    }
    // Every key must name one of the organisation's uploads before any is read, or deleted.
    for (const key of input.uploadKeys) {
      if (!key.startsWith(`orgs/${p.organizationId}/uploads/`) || key.includes("..")) {
        throw new DomainError("UPLOAD_NOT_FOUND", "upload not found", { field: "uploadKeys" });
      }
    }
    const uploads = { organizationId: p.organizationId, studyId: input.studyId, keys: [...new Set(input.uploadKeys)] };
    try {
      const decoded = await this.decoder.decode(await this.readUploads(input.uploadKeys), input.format, { organizationId: p.organizationId });
      return { decoded, uploads };
    } catch (error) {
      // A declared format that does not match the bytes (field "format") is the caller's mistake, not the bytes'.
      if (isDomainError(error) && REFUSED_CONTENT.has(error.code) && error.details["field"] !== "format") await this.deleteUploads(uploads, "REJECTED");
      throw error;
    }
  }

  /**
   * Reads the uploads, checking the size limit first on each object's size (no download of an
   * oversized one), then on the bytes read (the object may have been replaced in between): a
   * presigned S3 PUT cannot enforce it.
   */
  private async readUploads(keys: readonly string[]): Promise<Uint8Array[]> {
    const objects: Uint8Array[] = [];
    for (const key of keys) {
      const info = await this.store.head(key);
      if (!info) throw new DomainError("UPLOAD_NOT_FOUND", "upload not found", { field: "uploadKeys" });
      this.checkSize(info.sizeBytes);
      const bytes = await this.store.get(key);
      if (!bytes) throw new DomainError("UPLOAD_NOT_FOUND", "upload not found", { field: "uploadKeys" });
      this.checkSize(bytes.byteLength);
      objects.push(bytes);
    }
    return objects;
  }

  /** Deletes an import's uploads; a failure goes to `onUploadCleanupFailed`, never to the caller. */
  private async deleteUploads(uploads: { organizationId: string; studyId: string; keys: readonly string[] }, after: UploadCleanupFailure["after"]): Promise<void> {
    try {
      await this.store.deleteObjects(uploads.keys);
    } catch (error) {
      this.onUploadCleanupFailed({ organizationId: uploads.organizationId, studyId: uploads.studyId, after, uploadCount: uploads.keys.length, error });
    }
  }

  /**
   * Sets several labels at once (replacing each target's current label). Role: ANNOTATOR.
   * @throws NOT_FOUND when the study or a slice is not in the caller's organisation or not in
   *   the study; BAD_USER_INPUT on an empty list or a target given twice.
   */
  async setLabels(principal: Principal | null, studyId: string, labels: readonly LabelAssignment[]): Promise<Label[]> {
    const p = authorize(principal, "ANNOTATOR");
    await this.getStudy(p, studyId);
    if (labels.length === 0 || labels.length > 10_000) throw new DomainError("BAD_USER_INPUT", "give 1 to 10000 labels", { field: "labels" });
    const targets = labels.map((l) => l.sliceId ?? "study");
    if (new Set(targets).size !== targets.length) throw new DomainError("BAD_USER_INPUT", "a target is labelled twice", { field: "labels" });
    const sliceIds = labels.flatMap((l) => (l.sliceId ? [l.sliceId] : []));
    if (!sliceIds.every(isUuid)) throw new DomainError("NOT_FOUND", "slice not found", { entity: "Slice" });
    const found = await this.studies.findSlices(p.organizationId, sliceIds);
    for (const id of sliceIds) {
      if (found.get(id)?.studyId !== studyId) throw new DomainError("NOT_FOUND", "slice not found", { entity: "Slice" });
    }
    const stored = await this.labels.setLabels(p.organizationId, studyId, p.userId, labels);
    await this.audit.record({ organizationId: p.organizationId, actorId: p.userId, action: "labels.set", entityType: "Study", entityId: studyId, data: { count: labels.length } });
    return stored;
  }

  /**
   * One slice and its pixels (HU, row-major), for display. Role: VIEWER.
   * @throws NOT_FOUND when the slice is not in the caller's organisation (or its pixels are gone).
   */
  async slicePixels(principal: Principal | null, sliceId: string): Promise<{ slice: Slice; pixels: Float32Array }> {
    const p = authorize(principal, "VIEWER");
    const slice = isUuid(sliceId) ? (await this.studies.findSlices(p.organizationId, [sliceId])).get(sliceId) : undefined;
    if (!slice) throw new DomainError("NOT_FOUND", "slice not found", { entity: "Slice" });
    const bytes = await this.store.get(slice.storageKey);
    const pixels = bytes ? decodeSlicePixels(bytes, slice.width, slice.height) : null;
    if (!pixels) throw new DomainError("NOT_FOUND", "the slice's pixels are not in the store", { entity: "SlicePixels" });
    return { slice, pixels };
  }

  /** Batch reads for DataLoader (role VIEWER). Keys missing from the result map have no rows. */
  async seriesByStudy(principal: Principal | null, studyIds: readonly string[]): Promise<Map<string, Series[]>> {
    return this.studies.seriesByStudy(authorize(principal, "VIEWER").organizationId, studyIds);
  }

  /** Batch read of slices per study (role VIEWER). */
  async slicesByStudy(principal: Principal | null, studyIds: readonly string[]): Promise<Map<string, Slice[]>> {
    return this.studies.slicesByStudy(authorize(principal, "VIEWER").organizationId, studyIds);
  }

  /** Batch read of labels per study (role VIEWER). */
  async labelsByStudy(principal: Principal | null, studyIds: readonly string[]): Promise<Map<string, Label[]>> {
    return this.labels.labelsByStudy(authorize(principal, "VIEWER").organizationId, studyIds);
  }

  /** Batch read of labels per slice (role VIEWER). */
  async labelsBySlice(principal: Principal | null, sliceIds: readonly string[]): Promise<Map<string, Label[]>> {
    return this.labels.labelsBySlice(authorize(principal, "VIEWER").organizationId, sliceIds);
  }

  /** Batch read of ground truth per slice (role VIEWER). */
  async groundTruthBySlice(principal: Principal | null, sliceIds: readonly string[]): Promise<Map<string, GroundTruthMask>> {
    return this.labels.groundTruthBySlice(authorize(principal, "VIEWER").organizationId, sliceIds);
  }

  /** Batch read of studies by id (role VIEWER). */
  async studiesById(principal: Principal | null, studyIds: readonly string[]): Promise<Map<string, Study>> {
    return this.studies.findStudies(authorize(principal, "VIEWER").organizationId, studyIds.filter(isUuid));
  }

  private checkSize(sizeBytes: number): void {
    if (!Number.isInteger(sizeBytes) || sizeBytes < 0) throw new DomainError("BAD_USER_INPUT", "sizeBytes must be a non-negative integer", { field: "sizeBytes" });
    if (sizeBytes === 0) throw new DomainError("UPLOAD_EMPTY", "the upload is empty");
    if (sizeBytes > this.limits.uploadMaxBytes) {
      throw new DomainError("UPLOAD_TOO_LARGE", `the upload exceeds ${this.limits.uploadMaxBytes} bytes`, { maxBytes: this.limits.uploadMaxBytes });
    }
  }
}

function assertPageSize(first: number, max: number): void {
  if (!Number.isInteger(first) || first < 1 || first > max) {
    throw new DomainError("BAD_USER_INPUT", `first must be between 1 and ${max}`, { field: "first" });
  }
}

/** What {@link StudyService.importGroundTruth} stored. */
export interface GroundTruthImport {
  readonly series: Series;
  readonly slices: number;
  readonly positiveSlices: number;
  readonly foregroundVoxels: number;
}

/** The set of foreground label values, or null for "every non-zero voxel". */
function checkLabelValues(values: readonly number[] | null): ReadonlySet<number> | null {
  if (values === null) return null;
  const ok = values.length >= 1 && values.length <= 64 && values.every((v) => Number.isInteger(v) && v >= 1 && v <= 65535) && new Set(values).size === values.length;
  if (!ok) throw new DomainError("BAD_USER_INPUT", "labelValues must be 1 to 64 distinct integers from 1 to 65535", { field: "labelValues" });
  return new Set(values);
}

/**
 * Which part of a volume's grid differs from a series' (dimensions exactly; spacing, origin and
 * direction within what a float32 header round trip keeps), or null when they agree.
 */
function gridMismatch(volume: Volume, series: Series): string | null {
  if (volume.dimsIJK.some((n, a) => n !== series.dimsIJK[a])) return `dimensions ${volume.dimsIJK.join("×")} (series ${series.dimsIJK.join("×")})`;
  if (volume.spacingMm.some((v, a) => Math.abs(v - series.spacingMm[a]!) > 1e-3 * Math.max(1, Math.abs(series.spacingMm[a]!)))) return "voxel spacing";
  if (volume.originLPS.some((v, a) => Math.abs(v - series.originLPS[a]!) > 1e-2)) return "origin";
  if (volume.directionLPS.flat().some((v, n) => Math.abs(v - series.directionLPS[n]!) > 1e-3)) return "direction";
  return null;
}
