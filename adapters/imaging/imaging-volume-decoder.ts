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

/** Key of the UID salts when no deployment secret is given (the mapping is then reproducible from the organisation id). */
const DEFAULT_UID_SECRET = "coinseg/dicom-uid-salt";

/** Options of {@link ImagingVolumeDecoder}. */
export interface ImagingVolumeDecoderOptions {
  /**
   * Deployment secret the per-organisation DICOM UID salts are derived from
   * (salt = HMAC-SHA256(secret, "v1/" + organisationId)). Unset: a fixed key, so UIDs are still
   * mapped consistently per organisation and differently across organisations, but anyone who
   * knows an organisation id can test a guessed original UID against a mapped one.
   */
  readonly uidSecret?: string | Uint8Array;
}

/**
 * {@link VolumeDecoder} backed by imaging/decode. The declared format must match what the bytes
 * are (sniffed from their magic); a mismatch is UNSUPPORTED_FORMAT. DICOM Study/Series/
 * FrameOfReference UIDs come back remapped with the organisation's salt (`2.25.<decimal>`), so
 * the same source series maps to the same UID within an organisation and to unrelated UIDs in
 * different ones; the original UIDs never leave the decoder.
 */
export class ImagingVolumeDecoder implements VolumeDecoder {
  constructor(
    private readonly limits: Partial<DecodeLimits> = {},
    private readonly options: ImagingVolumeDecoderOptions = {},
  ) {}

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
    return createHmac("sha256", this.options.uidSecret ?? DEFAULT_UID_SECRET).update(`v1/${organizationId}`, "utf8").digest();
  }
}
