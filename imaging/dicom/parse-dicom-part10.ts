// Parses one DICOM file (Part 10, or a bare data set) into a dicom-parser DataSet, with coded errors.
import dicomParser from "dicom-parser";
import { inflateRawSync } from "node:zlib";
import { ImagingError } from "../errors/imaging-error.ts";
import { TRANSFER_SYNTAX } from "./transfer-syntax.ts";

/** A parsed DICOM data set and the transfer syntax its body was read with. */
export interface ParsedDicom {
  readonly dataSet: dicomParser.DataSet;
  /** Transfer syntax UID from the meta header, or the sniffed one for a bare data set. */
  readonly transferSyntaxUID: string;
  /** The bytes the data set's element offsets refer to (may be a copy: inflated or re-prefixed). */
  readonly byteArray: Uint8Array;
  /** True when the file had a "DICM" meta header. */
  readonly hasMetaHeader: boolean;
}

/** Value representations, used to tell an explicit-VR bare data set from an implicit one. */
const VRS = new Set(
  "AE AS AT CS DA DS DT FL FD IS LO LT OB OD OF OL OV OW PN SH SL SQ SS ST SV TM UC UI UL UN UR US UT UV".split(" "),
);

/**
 * Whether `bytes` look like DICOM: "DICM" at offset 128 (Part 10), at offset 0 (meta header with the
 * preamble stripped), or a bare data set whose first element is in a plausible group.
 */
export function looksLikeDicom(bytes: Uint8Array): boolean {
  return hasMagicAt(bytes, 128) || hasMagicAt(bytes, 0) || sniffBareSyntax(bytes) !== undefined;
}

/**
 * Parses one DICOM file. Accepts a full Part 10 file (preamble + "DICM" + meta header), a meta
 * header without the 128-byte preamble, or a bare data set (no meta header; implicit VR LE,
 * explicit VR LE or explicit VR BE sniffed from the first element). Deflated data sets are
 * inflated with output bounded by `maxBytes`.
 *
 * @throws ImagingError IMAGING_TRUNCATED when an element runs past the end of the input,
 *   IMAGING_INCONSISTENT for malformed structure, UNSUPPORTED_FORMAT when the bytes are not DICOM,
 *   IMAGING_TOO_LARGE when the input or inflated data exceeds `maxBytes`.
 */
export function parseDicomPart10(bytes: Uint8Array, maxBytes: number): ParsedDicom {
  if (bytes.byteLength > maxBytes) {
    throw new ImagingError("IMAGING_TOO_LARGE", `DICOM file of ${bytes.byteLength} bytes exceeds the ${maxBytes}-byte limit`);
  }
  let byteArray = bytes;
  let hasMetaHeader = hasMagicAt(bytes, 128);
  if (!hasMetaHeader && hasMagicAt(bytes, 0)) {
    // Meta header present but the preamble was stripped: put a blank preamble back.
    byteArray = new Uint8Array(128 + bytes.byteLength);
    byteArray.set(bytes, 128);
    hasMetaHeader = true;
  }
  let bareSyntax: string | undefined;
  if (!hasMetaHeader) {
    bareSyntax = sniffBareSyntax(bytes);
    if (bareSyntax === undefined) throw new ImagingError("UNSUPPORTED_FORMAT", "not a DICOM file (no DICM prefix, no recognisable data set)");
  }
  let inflated: Uint8Array | undefined;
  let dataSet: dicomParser.DataSet;
  try {
    dataSet = dicomParser.parseDicom(byteArray, {
      ...(bareSyntax ? { TransferSyntaxUID: bareSyntax } : {}),
      inflater: (arr: Uint8Array, position: number) => {
        inflated = inflateBounded(arr, position, maxBytes);
        return inflated;
      },
    } as dicomParser.ParseDicomOptions);
  } catch (err) {
    throw toImagingError(err);
  }
  const transferSyntaxUID = bareSyntax ?? readTransferSyntax(dataSet);
  return { dataSet, transferSyntaxUID, byteArray: inflated ?? dataSet.byteArray ?? byteArray, hasMetaHeader };
}

function readTransferSyntax(dataSet: dicomParser.DataSet): string {
  const uid = dataSet.string("x00020010")?.replace(/\0/g, "").trim();
  if (!uid) throw new ImagingError("IMAGING_INCONSISTENT", "DICOM meta header lacks TransferSyntaxUID (0002,0010)");
  return uid;
}

function hasMagicAt(b: Uint8Array, at: number): boolean {
  return b.byteLength >= at + 4 && b[at] === 0x44 && b[at + 1] === 0x49 && b[at + 2] === 0x43 && b[at + 3] === 0x4d;
}

/**
 * Guesses the transfer syntax of a bare data set from its first element: a group below 0x0100 in
 * little or big endian, and whether bytes 4–5 spell a VR. Big endian is only ever explicit VR.
 */
function sniffBareSyntax(b: Uint8Array): string | undefined {
  if (b.byteLength < 8) return undefined;
  const explicit = VRS.has(String.fromCharCode(b[4]!, b[5]!));
  const groupLE = b[0]! | (b[1]! << 8);
  const groupBE = (b[0]! << 8) | b[1]!;
  const plausible = (g: number): boolean => g >= 0x0002 && g < 0x0100 && g % 2 === 0;
  if (plausible(groupLE)) return explicit ? TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN : TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN;
  if (plausible(groupBE) && explicit) return TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN;
  return undefined;
}

/** Inflates the raw-deflate body after `position`, refusing to produce more than `maxBytes` in all. */
function inflateBounded(arr: Uint8Array, position: number, maxBytes: number): Uint8Array {
  let body: Buffer;
  try {
    body = inflateRawSync(arr.subarray(position), { maxOutputLength: Math.max(1, maxBytes - position) });
  } catch (err) {
    const code = (err as { code?: string }).code;
    if (code === "ERR_BUFFER_TOO_LARGE") throw new ImagingError("IMAGING_TOO_LARGE", `inflated DICOM data set exceeds the ${maxBytes}-byte limit`);
    throw new ImagingError("IMAGING_TRUNCATED", "deflated DICOM data set is corrupt or truncated", { cause: code ?? "zlib error" });
  }
  const out = new Uint8Array(position + body.byteLength);
  out.set(arr.subarray(0, position), 0);
  out.set(body, position);
  return out;
}

/** Maps dicom-parser's thrown strings/errors to coded errors without echoing file content. */
function toImagingError(err: unknown): ImagingError {
  if (err instanceof ImagingError) return err;
  // dicom-parser throws strings, Errors, or { exception, dataSet } objects.
  const inner = typeof err === "object" && err !== null && "exception" in err ? (err as { exception: unknown }).exception : err;
  const text = typeof inner === "string" ? inner : inner instanceof Error ? inner.message : "";
  if (/past end|overrun|overread|greater than or equal|not found at offset|beyond/i.test(text)) {
    return new ImagingError("IMAGING_TRUNCATED", "DICOM data ends inside an element", { cause: text });
  }
  return new ImagingError("IMAGING_INCONSISTENT", "malformed DICOM data set", { cause: text });
}
