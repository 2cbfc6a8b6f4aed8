// Turns uploaded bytes into a Volume (NIfTI, DICOM, PNG), implemented on top of imaging/.
import type { Volume } from "../../imaging/volume.ts";

/** Format hint of an upload. */
export type UploadFormat = "NIFTI" | "DICOM" | "PNG";

/** Who the upload belongs to: DICOM UIDs are remapped per organisation. */
export interface DecodeContext {
  readonly organizationId: string;
}

/**
 * Decodes one uploaded object (or a DICOM series given as several objects) into a Volume.
 * Metadata is de-identified; DICOM UIDs come back remapped with a per-organisation salt.
 * @throws DomainError with an imaging code (UNSUPPORTED_FORMAT, IMAGING_TRUNCATED, …) for bad bytes.
 */
export interface VolumeDecoder {
  decode(objects: readonly Uint8Array[], format: UploadFormat, context: DecodeContext): Promise<{ volume: Volume; format: UploadFormat }>;
}
