// The single decoding entry point for imports: bytes of any supported format → Volume.
import { ImagingError } from "../errors/imaging-error.ts";
import { decodeDicomSeries } from "../dicom/decode-dicom-series.ts";
import { decodeNifti } from "../nifti/nifti-decoder.ts";
import { decodePng } from "../png/png-decoder.ts";
import type { Volume } from "../volume.ts";
import type { DecodeLimits } from "./decode-limits.ts";
import { detectVolumeFormat, type VolumeFormat } from "./detect-volume-format.ts";

/** Options for {@link decodeVolume}. */
export interface DecodeVolumeOptions {
  /** Format to assume when the bytes' magic is not recognised (magic bytes win when they are). */
  readonly formatHint?: VolumeFormat;
  /** Size limits; unset fields take {@link DEFAULT_DECODE_LIMITS}. */
  readonly limits?: Partial<DecodeLimits>;
  /** Per-organisation salt for remapping DICOM UIDs in `meta` (without it, no UIDs are returned). */
  readonly uidSalt?: string | Uint8Array;
}

/**
 * Decodes one file (DICOM, NIfTI-1/2 .nii/.nii.gz, greyscale PNG) or several DICOM files of one
 * series into a {@link Volume}. The format is sniffed from each file's first bytes
 * ({@link detectVolumeFormat}); `formatHint` only decides when sniffing fails. Metadata is
 * de-identified. See the format decoders for geometry and voxel types.
 *
 * @throws ImagingError INVALID_ARGUMENT (no input, several files of which one is NIfTI/PNG or none
 *   is recognisably DICOM),
 *   UNSUPPORTED_FORMAT (unrecognised bytes), and every code the format decoders throw
 *   (IMAGING_TRUNCATED, IMAGING_INCONSISTENT, IMAGING_TOO_LARGE, UNSUPPORTED_TRANSFER_SYNTAX,
 *   NIFTI_4D_UNSUPPORTED). Never throws anything else for bad bytes.
 */
export function decodeVolume(input: Uint8Array | readonly Uint8Array[], options: DecodeVolumeOptions = {}): Volume {
  const files = input instanceof Uint8Array ? [input] : input;
  if (files.length === 0) throw new ImagingError("INVALID_ARGUMENT", "no input bytes given");
  if (files.some((f) => !(f instanceof Uint8Array))) throw new ImagingError("INVALID_ARGUMENT", "every input must be a Uint8Array");
  const detected = files.map((f) => detectVolumeFormat(f));
  if (files.length > 1) {
    // A series: every file must be DICOM. Unrecognised members go to the DICOM parser, which names
    // the problem (UNSUPPORTED_FORMAT / IMAGING_TRUNCATED) instead of a generic argument error.
    if (detected.some((f) => f !== undefined && f !== "dicom") || (detected.every((f) => f === undefined) && options.formatHint !== "dicom")) {
      throw new ImagingError("INVALID_ARGUMENT", "several files can only be decoded together when all are DICOM of one series");
    }
  }
  const format = files.length > 1 ? "dicom" : (detected[0] ?? options.formatHint);
  if (format === undefined) throw new ImagingError("UNSUPPORTED_FORMAT", "unrecognised image format (expected DICOM, NIfTI or PNG)");
  const limits = options.limits ?? {};
  switch (format) {
    case "dicom":
      return decodeDicomSeries(files, { limits, ...(options.uidSalt !== undefined ? { uidSalt: options.uidSalt } : {}) });
    case "nifti":
      return decodeNifti(files[0]!, { limits });
    case "png":
      return decodePng(files[0]!, { limits });
  }
}
