// Writes a Volume in HU as DICOM CT files (one per slice, or one enhanced multi-frame file) via dcmjs.
import { createHash } from "node:crypto";
import dcmjs from "dcmjs";
import { ImagingError } from "../errors/imaging-error.ts";
import type { Volume } from "../volume.ts";
import { TRANSFER_SYNTAX } from "./transfer-syntax.ts";
import type { DicomDict } from "./deidentify.ts";

/** Transfer syntaxes the writer can produce. */
export type WritableTransferSyntaxUID =
  | typeof TRANSFER_SYNTAX.IMPLICIT_VR_LITTLE_ENDIAN
  | typeof TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN
  | typeof TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN;

/** Options for {@link writeDicomSeries}. */
export interface DicomSeriesWriteOptions {
  /** Default Explicit VR Little Endian. */
  readonly transferSyntaxUID?: WritableTransferSyntaxUID;
  /**
   * "part10" (default): preamble + "DICM" + meta header; "no-preamble": meta header without the
   * 128-byte preamble; "bare": the data set alone (no meta header), as some archives store it.
   */
  readonly framing?: "part10" | "no-preamble" | "bare";
  /** One enhanced CT multi-frame file (per-frame functional groups) instead of one file per slice. */
  readonly multiFrame?: boolean;
  /** Stored value = round((HU − intercept) / slope). Defaults 1 and −1024 (as many scanners write). */
  readonly rescaleSlope?: number;
  readonly rescaleIntercept?: number;
  /**
   * Stored as signed (default: with intercept −1024 it holds HU −33792…31743, so noise below
   * −1024 HU in air fits) or unsigned 16-bit.
   */
  readonly pixelRepresentation?: "unsigned" | "signed";
  /** Seed for deterministic Study/Series/SOP/FrameOfReference UIDs (2.25.<hash>); default "coinseg". */
  readonly uidSeed?: string;
  /** Identity written into the files (synthetic data only). Default PHANTOM^COINSEG / PHANTOM. */
  readonly patient?: { readonly name?: string; readonly id?: string; readonly birthDate?: string };
  /** Extra attributes merged into every file's data set (dcmjs style, tag → { vr, Value }). */
  readonly extraAttributes?: DicomDict;
}

const CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2";
const ENHANCED_CT_IMAGE_STORAGE = "1.2.840.10008.5.1.4.1.1.2.1";

/**
 * Serialises a volume in HU as DICOM CT. Slice k of the volume becomes the file (or frame) with
 * ImagePositionPatient = originLPS + k·spacingMm[2]·directionLPS[2], ImageOrientationPatient =
 * the i and j directions, PixelSpacing = [spacing j, spacing i]. Returns one Part 10 buffer per
 * slice (k order), or a single buffer with `multiFrame`. Voxel values are rounded to integers.
 *
 * @throws ImagingError INVALID_ARGUMENT when the volume is not in HU, its data length disagrees
 *   with its dimensions, or a value does not fit the stored 16-bit range after rescaling.
 */
export function writeDicomSeries(volume: Volume, options: DicomSeriesWriteOptions = {}): Uint8Array[] {
  const [nx, ny, nz] = volume.dimsIJK;
  if (volume.unit !== "HU") throw new ImagingError("INVALID_ARGUMENT", `DICOM CT export needs a volume in HU, got ${volume.unit}`);
  if (volume.data.length !== nx * ny * nz) throw new ImagingError("INVALID_ARGUMENT", "volume data length disagrees with dimsIJK");
  const ts = options.transferSyntaxUID ?? TRANSFER_SYNTAX.EXPLICIT_VR_LITTLE_ENDIAN;
  const slope = options.rescaleSlope ?? 1;
  const intercept = options.rescaleIntercept ?? -1024;
  const signed = (options.pixelRepresentation ?? "signed") === "signed";
  if (!(slope > 0) || !Number.isFinite(intercept)) throw new ImagingError("INVALID_ARGUMENT", "rescale slope must be > 0 and intercept finite");
  const seed = options.uidSeed ?? "coinseg";
  const uid = (what: string): string => `2.25.${BigInt(`0x${createHash("sha256").update(`${seed}/${what}`).digest("hex").slice(0, 32)}`)}`;
  const studyUID = uid("study");
  const seriesUID = uid("series");
  const forUID = uid("for");

  const plane = nx * ny;
  const stored = signed ? new Int16Array(plane * nz) : new Uint16Array(plane * nz);
  const [lo, hi] = signed ? [-32768, 32767] : [0, 65535];
  for (let p = 0; p < stored.length; p++) {
    const v = Math.round((volume.data[p]! - intercept) / slope);
    if (!(v >= lo && v <= hi)) {
      throw new ImagingError("INVALID_ARGUMENT", `HU ${volume.data[p]} does not fit ${signed ? "int16" : "uint16"} with slope ${slope}, intercept ${intercept}`);
    }
    stored[p] = v;
  }
  const pixelBytes = (k0: number, k1: number): ArrayBuffer => {
    const bytes = new Uint8Array(stored.buffer.slice(k0 * plane * 2, k1 * plane * 2));
    if (ts === TRANSFER_SYNTAX.EXPLICIT_VR_BIG_ENDIAN) {
      // dcmjs writes OW bytes verbatim, so big-endian words must be swapped here.
      for (let p = 0; p + 1 < bytes.length; p += 2) {
        const t = bytes[p]!;
        bytes[p] = bytes[p + 1]!;
        bytes[p + 1] = t;
      }
    }
    return bytes.buffer;
  };

  const [sx, sy, sz] = volume.spacingMm;
  const [di, dj, dk] = volume.directionLPS;
  const position = (k: number): number[] => [0, 1, 2].map((d) => volume.originLPS[d]! + k * sz * dk[d]!);
  const iop = [...di, ...dj].map(ds);
  const common: DicomDict = {
    "00080016": { vr: "UI", Value: [options.multiFrame ? ENHANCED_CT_IMAGE_STORAGE : CT_IMAGE_STORAGE] },
    "00080060": { vr: "CS", Value: ["CT"] },
    "00080070": { vr: "LO", Value: ["coinseg"] },
    "00100010": { vr: "PN", Value: [{ Alphabetic: options.patient?.name ?? "PHANTOM^COINSEG" }] },
    "00100020": { vr: "LO", Value: [options.patient?.id ?? "PHANTOM"] },
    "00100030": { vr: "DA", Value: [options.patient?.birthDate ?? ""] },
    "0020000D": { vr: "UI", Value: [studyUID] },
    "0020000E": { vr: "UI", Value: [seriesUID] },
    "00200052": { vr: "UI", Value: [forUID] },
    "00280002": { vr: "US", Value: [1] },
    "00280004": { vr: "CS", Value: ["MONOCHROME2"] },
    "00280010": { vr: "US", Value: [ny] },
    "00280011": { vr: "US", Value: [nx] },
    "00280100": { vr: "US", Value: [16] },
    "00280101": { vr: "US", Value: [16] },
    "00280102": { vr: "US", Value: [15] },
    "00280103": { vr: "US", Value: [signed ? 1 : 0] },
    ...options.extraAttributes,
  };
  const rescale: DicomDict = {
    "00281052": { vr: "DS", Value: [ds(intercept)] },
    "00281053": { vr: "DS", Value: [ds(slope)] },
    "00281054": { vr: "LO", Value: ["HU"] },
  };
  const measures: DicomDict = {
    "00180050": { vr: "DS", Value: [ds(sz)] },
    "00280030": { vr: "DS", Value: [ds(sy), ds(sx)] },
  };

  if (options.multiFrame) {
    const sop = uid("sop/multiframe");
    const dict: DicomDict = {
      ...common,
      "00080018": { vr: "UI", Value: [sop] },
      "00200013": { vr: "IS", Value: ["1"] },
      "00280008": { vr: "IS", Value: [String(nz)] },
      "52009229": {
        vr: "SQ",
        Value: [
          {
            "00209116": { vr: "SQ", Value: [{ "00200037": { vr: "DS", Value: iop } }] },
            "00289110": { vr: "SQ", Value: [{ ...measures, "00180088": { vr: "DS", Value: [ds(sz)] } }] },
            "00289145": { vr: "SQ", Value: [rescale] },
          },
        ],
      },
      "52009230": {
        vr: "SQ",
        Value: Array.from({ length: nz }, (_, k) => ({
          "00209113": { vr: "SQ", Value: [{ "00200032": { vr: "DS", Value: position(k).map(ds) } }] },
        })),
      },
      "7FE00010": { vr: "OW", Value: [pixelBytes(0, nz)] },
    };
    return [serialise(dict, sop, ENHANCED_CT_IMAGE_STORAGE, ts, options.framing ?? "part10")];
  }

  const files: Uint8Array[] = [];
  for (let k = 0; k < nz; k++) {
    const sop = uid(`sop/${k}`);
    const dict: DicomDict = {
      ...common,
      ...rescale,
      ...measures,
      "00080018": { vr: "UI", Value: [sop] },
      "00200013": { vr: "IS", Value: [String(k + 1)] },
      "00200032": { vr: "DS", Value: position(k).map(ds) },
      "00200037": { vr: "DS", Value: iop },
      "00201041": { vr: "DS", Value: [ds(position(k)[2]!)] },
      "7FE00010": { vr: "OW", Value: [pixelBytes(k, k + 1)] },
    };
    files.push(serialise(dict, sop, CT_IMAGE_STORAGE, ts, options.framing ?? "part10"));
  }
  return files;
}

function serialise(dict: DicomDict, sopInstanceUID: string, sopClassUID: string, ts: string, framing: string): Uint8Array {
  const file = new dcmjs.data.DicomDict({
    "00020001": { vr: "OB", Value: [new Uint8Array([0, 1]).buffer] },
    "00020002": { vr: "UI", Value: [sopClassUID] },
    "00020003": { vr: "UI", Value: [sopInstanceUID] },
    "00020010": { vr: "UI", Value: [ts] },
    "00020012": { vr: "UI", Value: ["2.25.1"] },
    "00020013": { vr: "SH", Value: ["COINSEG"] },
  });
  file.dict = dict as typeof file.dict;
  const bytes = new Uint8Array(file.write());
  if (framing === "no-preamble") return bytes.slice(128);
  if (framing === "bare") return bytes.slice(endOfMetaHeader(bytes));
  return bytes;
}

/** Offset of the first element after the (explicit VR LE) group-0002 meta header. */
function endOfMetaHeader(b: Uint8Array): number {
  const v = new DataView(b.buffer, b.byteOffset, b.byteLength);
  let at = 132;
  while (at + 8 <= b.byteLength && v.getUint16(at, true) === 0x0002) {
    const vr = String.fromCharCode(b[at + 4]!, b[at + 5]!);
    at += ["OB", "OW", "OF", "SQ", "UT", "UN"].includes(vr) ? 12 + v.getUint32(at + 8, true) : 8 + v.getUint16(at + 6, true);
  }
  return at;
}

/** Formats a number as a DICOM decimal string (at most 16 characters). */
function ds(x: number): string {
  for (let digits = 16; digits > 1; digits--) {
    const s = String(Number(x.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return String(Math.round(x));
}
