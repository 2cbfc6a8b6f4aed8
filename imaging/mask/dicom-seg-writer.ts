// Binary DICOM Segmentation (SEG) objects referencing the source CT series, serialised with dcmjs.
import { randomUUID } from "node:crypto";
import dcmjs from "dcmjs";
import { ImagingError } from "../errors/imaging-error.ts";
import { assertBinaryMask, type BinaryMask } from "./binary-mask.ts";

const SEGMENTATION_STORAGE = "1.2.840.10008.5.1.4.1.1.66.4";
const EXPLICIT_VR_LITTLE_ENDIAN = "1.2.840.10008.1.2.1";
const UID_PATTERN = /^(0|[1-9][0-9]*)(\.(0|[1-9][0-9]*))*$/;

/** One image of the source series, as referenced by the SEG. */
export interface SegSourceInstance {
  readonly sopClassUID: string;
  readonly sopInstanceUID: string;
  /** ImagePositionPatient of the image's first pixel centre, mm, LPS. */
  readonly imagePositionPatient: readonly [number, number, number];
}

/** What the SEG must know about the (already de-identified) source series. */
export interface SegSourceSeries {
  readonly studyInstanceUID: string;
  readonly seriesInstanceUID: string;
  readonly frameOfReferenceUID: string;
  /** Image size in pixels: Rows (height) and Columns (width). Every mask must match. */
  readonly rows: number;
  readonly columns: number;
  /** PixelSpacing in DICOM order: [between rows, between columns], mm. */
  readonly pixelSpacingMm: readonly [number, number];
  /** SliceThickness in mm (also written as SpacingBetweenSlices). */
  readonly sliceThicknessMm: number;
  /** ImageOrientationPatient: row direction then column direction cosines, LPS. */
  readonly imageOrientationPatient: readonly [number, number, number, number, number, number];
  /** Patient and study attributes copied verbatim (pass de-identified values only). */
  readonly patientName?: string;
  readonly patientID?: string;
  readonly studyID?: string;
  readonly studyDate?: string;
  readonly studyTime?: string;
  readonly accessionNumber?: string;
  readonly instances: readonly SegSourceInstance[];
}

/** A mask for one source image (native grid: rows × columns, pixel (row, col) at `row·columns + col`). */
export interface SegFrameInput {
  readonly sopInstanceUID: string;
  readonly mask: BinaryMask;
}

/** Options for {@link writeDicomSeg}. */
export interface DicomSegOptions {
  /** SegmentLabel; default "COIN mask". */
  readonly segmentLabel?: string;
  /** SegmentAlgorithmName; default "COIN". */
  readonly algorithmName?: string;
  /** SeriesDescription; default "coinseg segmentation". */
  readonly seriesDescription?: string;
  /** New UIDs for the SEG; default fresh `2.25.<uuid>` UIDs. */
  readonly seriesInstanceUID?: string;
  readonly sopInstanceUID?: string;
  /** SeriesNumber; default 901. */
  readonly seriesNumber?: number;
  /** ContentDate/ContentTime/SeriesDate (UTC); default now. */
  readonly contentDateTime?: Date;
  /** SoftwareVersions; default "coinseg". */
  readonly softwareVersions?: string;
}

/**
 * Writes a DICOM Segmentation Storage object (Part 10, Explicit VR Little Endian) holding one
 * BINARY segment ("Neoplasm", SNOMED CT 108369006, category "Morphologically abnormal structure"
 * 49755003, algorithm type AUTOMATIC) with one frame per entry of `frames`, in the given order:
 *
 * - frame pixels are packed 1 bit per pixel, least significant bit first, frames back to back
 *   (BitsAllocated = BitsStored = 1, HighBit = 0, padded to an even length);
 * - each frame references its source image twice, as the standard asks: in the per-frame
 *   DerivationImageSequence → SourceImageSequence, and by ImagePositionPatient; the
 *   ReferencedSeriesSequence lists the source series with every referenced instance;
 * - Study, Frame of Reference and patient attributes are copied from `source`, so viewers place
 *   the SEG over the CT; geometry goes into the shared functional groups (PixelSpacing,
 *   SliceThickness, ImageOrientationPatient) and per-frame PlanePositionSequence.
 *
 * @returns the Part 10 file bytes
 * @throws ImagingError INVALID_ARGUMENT when there are no frames, a UID is malformed, a frame names
 *   an instance that is not in `source.instances`, or a mask is malformed or not rows × columns.
 */
export function writeDicomSeg(source: SegSourceSeries, frames: readonly SegFrameInput[], options: DicomSegOptions = {}): Uint8Array {
  if (frames.length === 0) throw new ImagingError("INVALID_ARGUMENT", "a DICOM SEG needs at least one frame");
  const { rows, columns } = source;
  if (!Number.isInteger(rows) || !Number.isInteger(columns) || rows < 1 || columns < 1 || rows > 65535 || columns > 65535) {
    throw new ImagingError("INVALID_ARGUMENT", `source size ${columns}×${rows} is not a valid DICOM image size`);
  }
  const seriesUID = options.seriesInstanceUID ?? newUid();
  const sopUID = options.sopInstanceUID ?? newUid();
  for (const [name, uid] of [
    ["StudyInstanceUID", source.studyInstanceUID],
    ["SeriesInstanceUID", source.seriesInstanceUID],
    ["FrameOfReferenceUID", source.frameOfReferenceUID],
    ["SEG SeriesInstanceUID", seriesUID],
    ["SEG SOPInstanceUID", sopUID],
  ] as const) {
    assertUid(uid, name);
  }
  const byUid = new Map<string, SegSourceInstance>();
  for (const instance of source.instances) {
    assertUid(instance.sopInstanceUID, "source SOPInstanceUID");
    assertUid(instance.sopClassUID, "source SOPClassUID");
    byUid.set(instance.sopInstanceUID, instance);
  }

  const plane = rows * columns;
  const pixelBytes = new Uint8Array(Math.ceil((plane * frames.length) / 8 / 2) * 2);
  const referenced: SegSourceInstance[] = [];
  const perFrame = frames.map((frame, n) => {
    const instance = byUid.get(frame.sopInstanceUID);
    if (!instance) throw new ImagingError("INVALID_ARGUMENT", `frame ${n} references an instance that is not in the source series`);
    assertBinaryMask(frame.mask, `mask of frame ${n}`);
    if (frame.mask.width !== columns || frame.mask.height !== rows) {
      throw new ImagingError("INVALID_ARGUMENT", `mask of frame ${n} is ${frame.mask.width}×${frame.mask.height}, source images are ${columns}×${rows}`);
    }
    if (!referenced.includes(instance)) referenced.push(instance);
    const bitBase = n * plane;
    const data = frame.mask.data;
    for (let p = 0; p < plane; p++) {
      if (data[p]) {
        const bit = bitBase + p;
        pixelBytes[bit >> 3]! |= 1 << (bit & 7);
      }
    }
    return {
      DerivationImageSequence: [
        {
          SourceImageSequence: [
            {
              ReferencedSOPClassUID: instance.sopClassUID,
              ReferencedSOPInstanceUID: instance.sopInstanceUID,
              PurposeOfReferenceCodeSequence: [code("121322", "DCM", "Source image for image processing operation")],
            },
          ],
          DerivationCodeSequence: [code("113076", "DCM", "Segmentation")],
        },
      ],
      FrameContentSequence: [{ DimensionIndexValues: [1, n + 1] }],
      PlanePositionSequence: [{ ImagePositionPatient: instance.imagePositionPatient.map(ds) }],
      SegmentIdentificationSequence: [{ ReferencedSegmentNumber: 1 }],
    };
  });

  const when = options.contentDateTime ?? new Date();
  const date = when.toISOString().slice(0, 10).replaceAll("-", "");
  const time = when.toISOString().slice(11, 19).replaceAll(":", "");
  const dimensionOrganizationUID = newUid();
  const dataset: Record<string, unknown> = {
    SOPClassUID: SEGMENTATION_STORAGE,
    SOPInstanceUID: sopUID,
    Modality: "SEG",
    SeriesInstanceUID: seriesUID,
    SeriesNumber: options.seriesNumber ?? 901,
    SeriesDescription: options.seriesDescription ?? "coinseg segmentation",
    SeriesDate: date,
    SeriesTime: time,
    InstanceNumber: 1,
    ContentDate: date,
    ContentTime: time,
    ContentLabel: "COINSEG",
    ContentDescription: "Weakly supervised segmentation",
    ContentCreatorName: "",
    StudyInstanceUID: source.studyInstanceUID,
    StudyDate: source.studyDate ?? "",
    StudyTime: source.studyTime ?? "",
    StudyID: source.studyID ?? "",
    AccessionNumber: source.accessionNumber ?? "",
    ReferringPhysicianName: "",
    PatientName: source.patientName ?? "",
    PatientID: source.patientID ?? "",
    PatientBirthDate: "",
    PatientSex: "",
    FrameOfReferenceUID: source.frameOfReferenceUID,
    PositionReferenceIndicator: "",
    Manufacturer: "coinseg",
    ManufacturerModelName: "coinseg",
    DeviceSerialNumber: "0",
    SoftwareVersions: options.softwareVersions ?? "coinseg",
    ImageType: ["DERIVED", "PRIMARY"],
    SamplesPerPixel: 1,
    PhotometricInterpretation: "MONOCHROME2",
    Rows: rows,
    Columns: columns,
    NumberOfFrames: frames.length,
    BitsAllocated: 1,
    BitsStored: 1,
    HighBit: 0,
    PixelRepresentation: 0,
    LossyImageCompression: "00",
    SegmentationType: "BINARY",
    SegmentSequence: [
      {
        SegmentNumber: 1,
        SegmentLabel: options.segmentLabel ?? "COIN mask",
        SegmentAlgorithmType: "AUTOMATIC",
        SegmentAlgorithmName: options.algorithmName ?? "COIN",
        SegmentedPropertyCategoryCodeSequence: [code("49755003", "SCT", "Morphologically abnormal structure")],
        SegmentedPropertyTypeCodeSequence: [code("108369006", "SCT", "Neoplasm")],
      },
    ],
    ReferencedSeriesSequence: [
      {
        SeriesInstanceUID: source.seriesInstanceUID,
        ReferencedInstanceSequence: referenced.map((i) => ({
          ReferencedSOPClassUID: i.sopClassUID,
          ReferencedSOPInstanceUID: i.sopInstanceUID,
        })),
      },
    ],
    DimensionOrganizationSequence: [{ DimensionOrganizationUID: dimensionOrganizationUID }],
    DimensionIndexSequence: [
      {
        DimensionOrganizationUID: dimensionOrganizationUID,
        DimensionIndexPointer: 0x0062000b, // ReferencedSegmentNumber
        FunctionalGroupPointer: 0x0062000a, // SegmentIdentificationSequence
        DimensionDescriptionLabel: "ReferencedSegmentNumber",
      },
      {
        DimensionOrganizationUID: dimensionOrganizationUID,
        DimensionIndexPointer: 0x00200032, // ImagePositionPatient
        FunctionalGroupPointer: 0x00209113, // PlanePositionSequence
        DimensionDescriptionLabel: "ImagePositionPatient",
      },
    ],
    SharedFunctionalGroupsSequence: [
      {
        PlaneOrientationSequence: [{ ImageOrientationPatient: source.imageOrientationPatient.map(ds) }],
        PixelMeasuresSequence: [
          {
            PixelSpacing: source.pixelSpacingMm.map(ds),
            SliceThickness: ds(source.sliceThicknessMm),
            SpacingBetweenSlices: ds(source.sliceThicknessMm),
          },
        ],
      },
    ],
    PerFrameFunctionalGroupsSequence: perFrame,
    PixelData: pixelBytes.buffer,
    _vrMap: { PixelData: "OB" },
  };

  const file = new dcmjs.data.DicomDict({
    "00020001": { vr: "OB", Value: [new Uint8Array([0, 1]).buffer] },
    "00020002": { vr: "UI", Value: [SEGMENTATION_STORAGE] },
    "00020003": { vr: "UI", Value: [sopUID] },
    "00020010": { vr: "UI", Value: [EXPLICIT_VR_LITTLE_ENDIAN] },
    "00020012": { vr: "UI", Value: ["2.25.1"] },
    "00020013": { vr: "SH", Value: ["COINSEG"] },
  });
  file.dict = dcmjs.data.DicomMetaDictionary.denaturalizeDataset(dataset) as typeof file.dict;
  return new Uint8Array(file.write());
}

function code(value: string, scheme: string, meaning: string): Record<string, string> {
  return { CodeValue: value, CodingSchemeDesignator: scheme, CodeMeaning: meaning };
}

/** A fresh UID under the 2.25 (UUID) root. */
function newUid(): string {
  return `2.25.${BigInt(`0x${randomUUID().replaceAll("-", "")}`)}`;
}

function assertUid(uid: string, name: string): void {
  if (typeof uid !== "string" || uid.length > 64 || !UID_PATTERN.test(uid)) {
    throw new ImagingError("INVALID_ARGUMENT", `${name} is not a valid DICOM UID`);
  }
}

/** A number as a DICOM decimal string (≤ 16 characters). */
function ds(x: number): string {
  if (!Number.isFinite(x)) throw new ImagingError("INVALID_ARGUMENT", `geometry value ${x} is not finite`);
  for (let digits = 16; digits > 1; digits--) {
    const s = String(Number(x.toPrecision(digits)));
    if (s.length <= 16) return s;
  }
  return String(Number(x.toPrecision(1)));
}
