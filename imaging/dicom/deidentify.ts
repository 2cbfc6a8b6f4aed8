// DICOM de-identification: the PS3.15 basic profile's actions, UID remapping and PHI-free metadata.
import { createHmac } from "node:crypto";
import type dicomParser from "dicom-parser";
import dcmjs from "dcmjs";
import { ImagingError } from "../errors/imaging-error.ts";

/** PS3.15 Annex E action codes used here: X remove, Z replace with empty, D replace with a dummy, U remap UID. */
export type DeidentAction = "X" | "Z" | "D" | "U";

/**
 * The patient-identifying attributes of the PS3.15 Table E.1-1 basic profile handled on ingest,
 * keyed by 8-hex-digit tag (dcmjs style). Private attributes (odd groups), overlays and curves are
 * removed by rule in {@link deidentifyDicomDict}, not listed here.
 */
export const BASIC_PROFILE_ACTIONS: Readonly<Record<string, { readonly name: string; readonly action: DeidentAction }>> = Object.freeze({
  "00020003": { name: "MediaStorageSOPInstanceUID", action: "U" },
  "00080012": { name: "InstanceCreationDate", action: "X" },
  "00080013": { name: "InstanceCreationTime", action: "X" },
  "00080014": { name: "InstanceCreatorUID", action: "U" },
  "00080018": { name: "SOPInstanceUID", action: "U" },
  "00080020": { name: "StudyDate", action: "Z" },
  "00080021": { name: "SeriesDate", action: "X" },
  "00080022": { name: "AcquisitionDate", action: "X" },
  "00080023": { name: "ContentDate", action: "Z" },
  "0008002A": { name: "AcquisitionDateTime", action: "X" },
  "00080030": { name: "StudyTime", action: "Z" },
  "00080031": { name: "SeriesTime", action: "X" },
  "00080032": { name: "AcquisitionTime", action: "X" },
  "00080033": { name: "ContentTime", action: "Z" },
  "00080050": { name: "AccessionNumber", action: "Z" },
  "00080080": { name: "InstitutionName", action: "X" },
  "00080081": { name: "InstitutionAddress", action: "X" },
  "00080090": { name: "ReferringPhysicianName", action: "Z" },
  "00080092": { name: "ReferringPhysicianAddress", action: "X" },
  "00080094": { name: "ReferringPhysicianTelephoneNumbers", action: "X" },
  "00080096": { name: "ReferringPhysicianIdentificationSequence", action: "X" },
  "00081010": { name: "StationName", action: "X" },
  "00081030": { name: "StudyDescription", action: "X" },
  "0008103E": { name: "SeriesDescription", action: "X" },
  "00081040": { name: "InstitutionalDepartmentName", action: "X" },
  "00081048": { name: "PhysiciansOfRecord", action: "X" },
  "00081050": { name: "PerformingPhysicianName", action: "X" },
  "00081060": { name: "NameOfPhysiciansReadingStudy", action: "X" },
  "00081070": { name: "OperatorsName", action: "X" },
  "00081080": { name: "AdmittingDiagnosesDescription", action: "X" },
  "00081110": { name: "ReferencedStudySequence", action: "X" },
  "00081120": { name: "ReferencedPatientSequence", action: "X" },
  "00081155": { name: "ReferencedSOPInstanceUID", action: "U" },
  "00083010": { name: "IrradiationEventUID", action: "U" },
  "00100010": { name: "PatientName", action: "Z" },
  "00100020": { name: "PatientID", action: "Z" },
  "00100021": { name: "IssuerOfPatientID", action: "X" },
  "00100030": { name: "PatientBirthDate", action: "Z" },
  "00100032": { name: "PatientBirthTime", action: "X" },
  "00100040": { name: "PatientSex", action: "Z" },
  "00101000": { name: "OtherPatientIDs", action: "X" },
  "00101001": { name: "OtherPatientNames", action: "X" },
  "00101002": { name: "OtherPatientIDsSequence", action: "X" },
  "00101005": { name: "PatientBirthName", action: "X" },
  "00101010": { name: "PatientAge", action: "X" },
  "00101020": { name: "PatientSize", action: "X" },
  "00101030": { name: "PatientWeight", action: "X" },
  "00101040": { name: "PatientAddress", action: "X" },
  "00101060": { name: "PatientMotherBirthName", action: "X" },
  "00101090": { name: "MedicalRecordLocator", action: "X" },
  "00102150": { name: "CountryOfResidence", action: "X" },
  "00102152": { name: "RegionOfResidence", action: "X" },
  "00102154": { name: "PatientTelephoneNumbers", action: "X" },
  "00102160": { name: "EthnicGroup", action: "X" },
  "00102180": { name: "Occupation", action: "X" },
  "001021B0": { name: "AdditionalPatientHistory", action: "X" },
  "00104000": { name: "PatientComments", action: "X" },
  "00181000": { name: "DeviceSerialNumber", action: "X" },
  "00181030": { name: "ProtocolName", action: "X" },
  "0020000D": { name: "StudyInstanceUID", action: "U" },
  "0020000E": { name: "SeriesInstanceUID", action: "U" },
  "00200010": { name: "StudyID", action: "Z" },
  "00200052": { name: "FrameOfReferenceUID", action: "U" },
  "00200200": { name: "SynchronizationFrameOfReferenceUID", action: "U" },
  "00204000": { name: "ImageComments", action: "X" },
  "00209161": { name: "ConcatenationUID", action: "U" },
  "00321032": { name: "RequestingPhysician", action: "X" },
  "00321060": { name: "RequestedProcedureDescription", action: "X" },
  "00380010": { name: "AdmissionID", action: "X" },
  "00380400": { name: "PatientInstitutionResidence", action: "X" },
  "00380500": { name: "PatientState", action: "X" },
  "00400244": { name: "PerformedProcedureStepStartDate", action: "X" },
  "00400253": { name: "PerformedProcedureStepID", action: "X" },
  "00400254": { name: "PerformedProcedureStepDescription", action: "X" },
  "00400275": { name: "RequestAttributesSequence", action: "X" },
  "0040A124": { name: "UID", action: "U" },
  "30060024": { name: "ReferencedFrameOfReferenceUID", action: "U" },
});

/** A function mapping an original UID to its de-identified replacement. */
export type UidRemapper = (uid: string) => string;

/**
 * Creates a deterministic UID remapper: `2.25.<decimal of the first 128 bits of
 * HMAC-SHA256(salt, uid)>` (at most 44 characters, a valid UUID-derived UID). The same salt maps the
 * same UID to the same result on every call and process, so series and references stay linked;
 * different organisations (salts) get unrelated UIDs, and the original cannot be recovered
 * without the salt.
 *
 * @throws ImagingError INVALID_ARGUMENT when the salt is empty.
 */
export function createUidRemapper(salt: string | Uint8Array): UidRemapper {
  if (salt.length === 0) throw new ImagingError("INVALID_ARGUMENT", "UID remapping needs a non-empty salt");
  const cache = new Map<string, string>();
  return (uid: string): string => {
    const key = uid.replace(/\0/g, "").trim();
    let out = cache.get(key);
    if (out === undefined) {
      const digest = createHmac("sha256", salt).update(key, "utf8").digest("hex").slice(0, 32);
      out = `2.25.${BigInt(`0x${digest}`).toString(10)}`;
      cache.set(key, out);
    }
    return out;
  };
}

/** A dcmjs-style data set: tag (8 hex digits) → `{ vr, Value }`. */
export type DicomDict = Record<string, { vr: string; Value?: unknown[]; [k: string]: unknown }>;

/** Options for {@link deidentifyDicomDict}. */
export interface DeidentifyOptions {
  /** Per-organisation secret for UID remapping (see {@link createUidRemapper}). */
  readonly uidSalt: string | Uint8Array;
}

/**
 * Applies the basic profile to a dcmjs-style dict in place (recursing into sequences): X removes,
 * Z empties, D writes a dummy, U remaps UIDs; private attributes (odd groups), overlay data
 * (60xx,3000) and curves (50xx) are removed; PatientIdentityRemoved (0012,0062) = "YES" and
 * DeidentificationMethod (0012,0063) are set on the top level. Returns the same dict.
 *
 * @throws ImagingError INVALID_ARGUMENT when the salt is empty.
 */
export function deidentifyDicomDict(dict: DicomDict, options: DeidentifyOptions): DicomDict {
  const remap = createUidRemapper(options.uidSalt);
  applyProfile(dict, remap);
  dict["00120062"] = { vr: "CS", Value: ["YES"] };
  dict["00120063"] = { vr: "LO", Value: ["coinseg PS3.15 basic profile"] };
  return dict;
}

/**
 * De-identifies a whole Part 10 file: {@link deidentifyDicomDict} on the data set, and the UID
 * remapping on the meta header (MediaStorageSOPInstanceUID follows SOPInstanceUID). Pixel data and
 * geometry are untouched. Returns a new Part 10 buffer in the file's transfer syntax.
 *
 * @throws ImagingError IMAGING_INCONSISTENT when dcmjs cannot read the file, INVALID_ARGUMENT for an empty salt.
 */
export function deidentifyPart10(bytes: Uint8Array, options: DeidentifyOptions): Uint8Array {
  const remap = createUidRemapper(options.uidSalt);
  let file: ReturnType<typeof dcmjs.data.DicomMessage.readFile>;
  try {
    file = dcmjs.data.DicomMessage.readFile(new Uint8Array(bytes).buffer);
  } catch (err) {
    throw new ImagingError("IMAGING_INCONSISTENT", "DICOM file could not be read for de-identification", { cause: String(err).slice(0, 200) });
  }
  applyProfile(file.meta as DicomDict, remap);
  deidentifyDicomDict(file.dict as DicomDict, options);
  return new Uint8Array(file.write());
}

function applyProfile(dict: DicomDict, remap: UidRemapper): void {
  for (const tag of Object.keys(dict)) {
    const upper = tag.toUpperCase();
    const group = parseInt(upper.slice(0, 4), 16);
    const el = dict[tag]!;
    if (group % 2 === 1 || (group >= 0x5000 && group <= 0x50ff) || (group >= 0x6000 && group <= 0x60ff && upper.endsWith("3000"))) {
      delete dict[tag];
      continue;
    }
    const rule = BASIC_PROFILE_ACTIONS[upper];
    if (rule?.action === "X") delete dict[tag];
    else if (rule?.action === "Z") el.Value = [];
    else if (rule?.action === "D") el.Value = [el.vr === "PN" ? { Alphabetic: "ANONYMOUS" } : "ANONYMOUS"];
    else if (rule?.action === "U") el.Value = (el.Value ?? []).map((v) => (typeof v === "string" && v !== "" ? remap(v) : v));
    else if (el.vr === "SQ" && Array.isArray(el.Value)) {
      for (const item of el.Value) if (item && typeof item === "object") applyProfile(item as DicomDict, remap);
    }
  }
}

/** Options for {@link extractDeidentifiedMetadata}. */
export interface MetadataOptions {
  /** The file's transfer syntax (reported as is: it is not identifying). */
  readonly transferSyntaxUID: string;
  /** When set, Study/Series/FrameOfReference UIDs are included, remapped with this salt. */
  readonly uidSalt?: string | Uint8Array;
}

/** Non-identifying attributes copied into volume metadata (allow-list; everything else is dropped). */
const SAFE_ATTRIBUTES: ReadonlyArray<readonly [string, string, "string" | "number"]> = [
  ["x00080060", "modality", "string"],
  ["x00080016", "sopClassUID", "string"],
  ["x00080070", "manufacturer", "string"],
  ["x00081090", "manufacturerModelName", "string"],
  ["x00180015", "bodyPartExamined", "string"],
  ["x00180050", "sliceThicknessMm", "number"],
  ["x00180060", "kvp", "number"],
  ["x00181210", "convolutionKernel", "string"],
  ["x00280004", "photometricInterpretation", "string"],
];

const REMAPPED_UIDS: ReadonlyArray<readonly [string, string]> = [
  ["x0020000d", "studyInstanceUID"],
  ["x0020000e", "seriesInstanceUID"],
  ["x00200052", "frameOfReferenceUID"],
];

/**
 * Builds the metadata a decoded volume may carry: an allow-list of technical attributes (modality,
 * manufacturer, kernel…; strings limited to 64 printable ASCII characters) plus, when a salt is
 * given, remapped Study/Series/FrameOfReference UIDs. Never includes names, ids, dates,
 * institutions or original UIDs.
 */
export function extractDeidentifiedMetadata(ds: dicomParser.DataSet, options: MetadataOptions): Record<string, string | number> {
  const out: Record<string, string | number> = { transferSyntaxUID: options.transferSyntaxUID };
  for (const [tag, key, kind] of SAFE_ATTRIBUTES) {
    const text = safeString(ds, tag);
    if (text === undefined) continue;
    if (kind === "number") {
      const n = Number(text.split("\\")[0]);
      if (Number.isFinite(n)) out[key] = n;
    } else out[key] = text;
  }
  if (options.uidSalt !== undefined) {
    const remap = createUidRemapper(options.uidSalt);
    for (const [tag, key] of REMAPPED_UIDS) {
      const uid = safeString(ds, tag);
      if (uid) out[key] = remap(uid);
    }
  }
  return out;
}

function safeString(ds: dicomParser.DataSet, tag: string): string | undefined {
  const el = ds.elements[tag];
  if (!el || el.length === 0 || el.length > 1024) return undefined;
  let text: string | undefined;
  try {
    text = ds.string(tag);
  } catch {
    return undefined;
  }
  const clean = text?.replace(/[^\x20-\x7e]/g, "").trim().slice(0, 64);
  return clean ? clean : undefined;
}
