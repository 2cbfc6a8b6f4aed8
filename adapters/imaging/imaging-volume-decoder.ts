// VolumeDecoder on imaging/'s decodeVolume (DICOM, NIfTI, PNG), with imaging errors mapped to domain errors.
import { decodeVolume } from "../../imaging/decode/decode-volume.ts";
import { detectVolumeFormat, type VolumeFormat } from "../../imaging/decode/detect-volume-format.ts";
import type { DecodeLimits } from "../../imaging/decode/decode-limits.ts";
import { isImagingError } from "../../imaging/errors/imaging-error.ts";
import type { Volume } from "../../imaging/volume.ts";
import { DomainError } from "../../core/errors/domain-error.ts";
import type { UploadFormat, VolumeDecoder } from "../../core/ports/volume-decoder.port.ts";

const TO_IMAGING: Record<UploadFormat, VolumeFormat> = { NIFTI: "nifti", DICOM: "dicom", PNG: "png" };

/**
 * {@link VolumeDecoder} backed by imaging/decode. The declared format must match what the bytes
 * are (sniffed from their magic); a mismatch is UNSUPPORTED_FORMAT.
 */
export class ImagingVolumeDecoder implements VolumeDecoder {
  constructor(private readonly limits: Partial<DecodeLimits> = {}) {}

  async decode(objects: readonly Uint8Array[], format: UploadFormat): Promise<{ volume: Volume; format: UploadFormat }> {
    const expected = TO_IMAGING[format];
    for (const bytes of objects) {
      const detected = detectVolumeFormat(bytes);
      if (detected !== undefined && detected !== expected) {
        throw new DomainError("UNSUPPORTED_FORMAT", `declared ${format} but the upload is ${detected.toUpperCase()}`, { field: "format" });
      }
    }
    try {
      const volume = decodeVolume(objects.length === 1 ? objects[0]! : objects, { formatHint: expected, limits: this.limits });
      return { volume, format };
    } catch (error) {
      if (isImagingError(error)) throw new DomainError(error.code, error.message, {}, { cause: error });
      throw error;
    }
  }
}
