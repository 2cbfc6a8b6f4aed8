// The single catalogue of imaging error codes and the error type every imaging module throws.

/**
 * Every code an imaging module may attach to an {@link ImagingError}, one doc line each.
 * Codes are stable strings: the API maps them to GraphQL `extensions.code`.
 */
export const IMAGING_ERROR_CODES = {
  /** The input ended before a structure it declares (header, element, pixel data) was complete. */
  IMAGING_TRUNCATED: "IMAGING_TRUNCATED",
  /** The input is well-formed but self-contradictory (dims × bytes ≠ data, missing geometry, mixed series). */
  IMAGING_INCONSISTENT: "IMAGING_INCONSISTENT",
  /** The input exceeds a configured limit (bytes, voxels, slices). */
  IMAGING_TOO_LARGE: "IMAGING_TOO_LARGE",
  /** A DICOM transfer syntax (e.g. JPEG, JPEG 2000, RLE) that no bundled decoder can read; the message names it. */
  UNSUPPORTED_TRANSFER_SYNTAX: "UNSUPPORTED_TRANSFER_SYNTAX",
  /** The bytes are not a recognised format, or use a variant of one that is not supported (e.g. colour PNG). */
  UNSUPPORTED_FORMAT: "UNSUPPORTED_FORMAT",
  /** A NIfTI image with a 4th dimension > 1 (time series); only 3D images are accepted. */
  NIFTI_4D_UNSUPPORTED: "NIFTI_4D_UNSUPPORTED",
  /** A caller passed an argument outside its documented domain (bad size, empty list, NaN spacing). */
  INVALID_ARGUMENT: "INVALID_ARGUMENT",
} as const;

/** Union of the imaging error codes. */
export type ImagingErrorCode = (typeof IMAGING_ERROR_CODES)[keyof typeof IMAGING_ERROR_CODES];

/**
 * The error every imaging function throws for bad input. `code` is one of {@link IMAGING_ERROR_CODES};
 * `message` is for humans and never contains patient data.
 */
export class ImagingError extends Error {
  /** The stable, machine-readable error code. */
  readonly code: ImagingErrorCode;

  /**
   * @param code one of {@link IMAGING_ERROR_CODES}
   * @param message a human-readable explanation (no PHI)
   * @param options standard `cause` to chain an underlying library error
   */
  constructor(code: ImagingErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.name = "ImagingError";
    this.code = code;
  }
}

/** True when `err` is an {@link ImagingError} (optionally with the given code). */
export function isImagingError(err: unknown, code?: ImagingErrorCode): err is ImagingError {
  return err instanceof ImagingError && (code === undefined || err.code === code);
}
