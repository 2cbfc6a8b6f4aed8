// VolumeDecoder on imaging/'s decodeVolume (DICOM, NIfTI, PNG), with imaging errors mapped to domain errors.
import { createHmac } from "node:crypto";
import { decodeVolume } from "../../imaging/decode/decode-volume.ts";
import { detectVolumeFormat, type VolumeFormat } from "../../imaging/decode/detect-volume-format.ts";
import type { DecodeLimits } from "../../imaging/decode/decode-limits.ts";
import { isImagingError } from "../../imaging/errors/imaging-error.ts";
import type { Volume } from "../../imaging/volume.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import type { DecodeContext, UploadFormat, VolumeDecoder } from "../../core/ports/volume-decoder.port.ts";

const TO_IMAGING: Record<UploadFormat, VolumeFormat> = { NIFTI: "nifti", DICOM: "dicom", PNG: "png" };

/** Shortest accepted {@link ImagingVolumeDecoderOptions.uidSecret}, in characters (or bytes). */
export const MIN_UID_SECRET_LENGTH = 32;

/** Options of {@link ImagingVolumeDecoder}. */
export interface ImagingVolumeDecoderOptions {
  /**
   * Deployment secret the per-organisation DICOM UID salts are derived from
   * (salt = HMAC-SHA256(secret, "v1/" + organisationId)); at least 32 characters. Without it,
   * anyone who knows an organisation id could test a guessed original UID against a mapped one,
   * so there is no default. Changing it changes every mapping from then on (UIDs already stored
   * stay as they are).
   */
  readonly uidSecret: string | Uint8Array;
}

/**
 * {@link VolumeDecoder} backed by imaging/decode. The declared format must match what the bytes
 * are (sniffed from their magic); a mismatch is UNSUPPORTED_FORMAT. DICOM Study/Series/
 * FrameOfReference UIDs come back remapped with the organisation's salt (`2.25.<decimal>`), so
 * the same source series maps to the same UID within an organisation and to unrelated UIDs in
 * different ones; the original UIDs never leave the decoder.
 * @throws RangeError (constructor) when the UID secret is shorter than {@link MIN_UID_SECRET_LENGTH}.
 */
export class ImagingVolumeDecoder implements VolumeDecoder {
  constructor(
    private readonly limits: Partial<DecodeLimits>,
    private readonly options: ImagingVolumeDecoderOptions,
  ) {
    if (options.uidSecret.length < MIN_UID_SECRET_LENGTH) throw new RangeError(`the DICOM UID secret needs at least ${MIN_UID_SECRET_LENGTH} characters`);
  }

  async decode(objects: readonly Uint8Array[], format: UploadFormat, context: DecodeContext): Promise<{ volume: Volume; format: UploadFormat }> {
    const expected = TO_IMAGING[format];
    for (const bytes of objects) {
      const detected = detectVolumeFormat(bytes);
      if (detected !== undefined && detected !== expected) {
        throw new DomainError("UNSUPPORTED_FORMAT", `declared ${format} but the upload is ${detected.toUpperCase()}`, { field: "format" });
      }
    }
    try {
      const volume = decodeVolume(objects.length === 1 ? objects[0]! : objects, {
        formatHint: expected,
        limits: this.limits,
        uidSalt: this.uidSalt(context.organizationId),
      });
      return { volume, format };
    } catch (error) {
      if (isImagingError(error)) throw new DomainError(error.code, error.message, {}, { cause: error });
      throw error;
    }
  }

  /** The organisation's UID salt (32 bytes). */
  private uidSalt(organizationId: string): Uint8Array {
    return createHmac("sha256", this.options.uidSecret).update(`v1/${organizationId}`, "utf8").digest();
  }
}
