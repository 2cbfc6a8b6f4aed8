// The DICOM transfer syntaxes coinseg reads natively, and names for the ones it rejects.

/** The uncompressed transfer syntaxes the decoder and writer support. */
export const TRANSFER_SYNTAX = {
  /** Implicit VR Little Endian (the DICOM default). */
  IMPLICIT_VR_LITTLE_ENDIAN: "1.2.840.10008.1.2",
  /** Explicit VR Little Endian. */
  EXPLICIT_VR_LITTLE_ENDIAN: "1.2.840.10008.1.2.1",
  /** Explicit VR Big Endian (retired, still found in archives). */
  EXPLICIT_VR_BIG_ENDIAN: "1.2.840.10008.1.2.2",
  /** Deflated Explicit VR Little Endian (inflated with a size bound). */
  DEFLATED_EXPLICIT_VR_LITTLE_ENDIAN: "1.2.840.10008.1.2.1.99",
} as const;

/** UID of a transfer syntax the decoder reads. */
export type SupportedTransferSyntaxUID = (typeof TRANSFER_SYNTAX)[keyof typeof TRANSFER_SYNTAX];

/** Human names of common compressed syntaxes, used in UNSUPPORTED_TRANSFER_SYNTAX messages. */
const COMPRESSED_NAMES: Readonly<Record<string, string>> = {
  "1.2.840.10008.1.2.4.50": "JPEG Baseline (Process 1)",
  "1.2.840.10008.1.2.4.51": "JPEG Extended (Process 2 & 4)",
  "1.2.840.10008.1.2.4.57": "JPEG Lossless, Non-Hierarchical (Process 14)",
  "1.2.840.10008.1.2.4.70": "JPEG Lossless, First-Order Prediction (Process 14 SV1)",
  "1.2.840.10008.1.2.4.80": "JPEG-LS Lossless",
  "1.2.840.10008.1.2.4.81": "JPEG-LS Near-Lossless",
  "1.2.840.10008.1.2.4.90": "JPEG 2000 (Lossless Only)",
  "1.2.840.10008.1.2.4.91": "JPEG 2000",
  "1.2.840.10008.1.2.4.201": "High-Throughput JPEG 2000 (Lossless Only)",
  "1.2.840.10008.1.2.4.202": "High-Throughput JPEG 2000 with RPCL (Lossless Only)",
  "1.2.840.10008.1.2.4.203": "High-Throughput JPEG 2000",
  "1.2.840.10008.1.2.5": "RLE Lossless",
  "1.2.840.10008.1.2.4.100": "MPEG2 Main Profile",
  "1.2.840.10008.1.2.4.102": "MPEG-4 AVC/H.264",
};

/** True when `uid` is one of {@link TRANSFER_SYNTAX}. */
export function isSupportedTransferSyntax(uid: string): uid is SupportedTransferSyntaxUID {
  return (Object.values(TRANSFER_SYNTAX) as string[]).includes(uid);
}

/** A printable "name (uid)" for a transfer syntax UID; unknown UIDs are named "unknown". */
export function describeTransferSyntax(uid: string): string {
  const known = Object.entries(TRANSFER_SYNTAX).find(([, v]) => v === uid)?.[0];
  const name = known ?? COMPRESSED_NAMES[uid] ?? "unknown transfer syntax";
  // UIDs are digits and dots only; anything else is replaced so messages stay printable.
  return `${name} (${uid.replace(/[^0-9.]/g, "?").slice(0, 64)})`;
}
