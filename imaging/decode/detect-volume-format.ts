// Recognises an image file's format from its first bytes.
import { looksLikeDicom } from "../dicom/parse-dicom-part10.ts";
import { looksLikeNifti } from "../nifti/nifti-decoder.ts";
import { looksLikePng } from "../png/png-decoder.ts";

/** The file formats {@link detectVolumeFormat} recognises. */
export type VolumeFormat = "dicom" | "nifti" | "png";

/**
 * Sniffs the format from magic bytes, most specific first: the PNG signature; a gzip stream
 * (taken as .nii.gz, the only gzipped format accepted) or a NIfTI sizeof_hdr of 348/540 in either
 * byte order; "DICM" at offset 128 or 0, or a bare DICOM data set. Returns undefined when none match.
 */
export function detectVolumeFormat(bytes: Uint8Array): VolumeFormat | undefined {
  if (looksLikePng(bytes)) return "png";
  if (looksLikeNifti(bytes)) return "nifti";
  if (looksLikeDicom(bytes)) return "dicom";
  return undefined;
}
