import { test } from "node:test";
import assert from "node:assert/strict";
import dicomParser from "dicom-parser";
import { writeDicomSeries } from "../../../imaging/dicom/dicom-series-writer.ts";
import { decodeDicomSeries } from "../../../imaging/dicom/decode-dicom-series.ts";
import { createUidRemapper, deidentifyDicomDict, deidentifyPart10, type DicomDict } from "../../../imaging/dicom/deidentify.ts";
import { isImagingError } from "../../../imaging/errors/imaging-error.ts";
import { indexVolume } from "./fixtures.ts";

const PHI = ["DOE^JANE", "MRN-0042", "19700101", "St Elsewhere", "HOUSE^GREGORY", "ACC-777", "20240229", "CT-ROOM-3", "SN-31337", "secret note"];

function phiSeries(): Uint8Array[] {
  return writeDicomSeries(indexVolume(), {
    uidSeed: "phi",
    patient: { name: "DOE^JANE", id: "MRN-0042", birthDate: "19700101" },
    extraAttributes: {
      "00080080": { vr: "LO", Value: ["St Elsewhere"] },
      "00080090": { vr: "PN", Value: [{ Alphabetic: "HOUSE^GREGORY" }] },
      "00080050": { vr: "SH", Value: ["ACC-777"] },
      "00080020": { vr: "DA", Value: ["20240229"] },
      "00081010": { vr: "SH", Value: ["CT-ROOM-3"] },
      "00181000": { vr: "LO", Value: ["SN-31337"] },
      "00090010": { vr: "LO", Value: ["PRIVATE CREATOR"] },
      "00091001": { vr: "LO", Value: ["secret note"] },
    },
  });
}

function originalUIDs(file: Uint8Array): string[] {
  const ds = dicomParser.parseDicom(file);
  return ["x0020000d", "x0020000e", "x00200052", "x00080018"].map((t) => ds.string(t)!.replace(/\0/g, ""));
}

test("should return metadata without any PHI or original UID when a series carrying PHI is decoded", () => {
  const files = phiSeries();
  const text = Buffer.concat(files).toString("latin1");
  for (const s of PHI) assert.ok(text.includes(s), `fixture should contain ${s}`);
  const out = decodeDicomSeries(files, { uidSalt: "org-1" });
  const meta = JSON.stringify(out.meta);
  for (const s of [...PHI, ...originalUIDs(files[0]!)]) assert.ok(!meta.includes(s), `metadata leaks ${s}`);
  assert.match(String(out.meta?.studyInstanceUID), /^2\.25\.\d{1,39}$/);
  assert.equal(out.meta?.modality, "CT");
});

test("should omit UIDs from metadata when no salt is given", () => {
  const out = decodeDicomSeries(phiSeries());
  assert.equal(out.meta?.studyInstanceUID, undefined);
  assert.equal(out.meta?.seriesInstanceUID, undefined);
});

test("should map a UID to the same value for one salt and to different values across salts", () => {
  const a = createUidRemapper("org-1");
  const again = createUidRemapper("org-1");
  const b = createUidRemapper("org-2");
  const uid = "1.2.826.0.1.3680043.8.498.1";
  assert.equal(a(uid), again(uid));
  assert.notEqual(a(uid), b(uid));
  assert.notEqual(a(uid), a(`${uid}0`));
  assert.ok(a(uid).length <= 64);
  assert.throws(() => createUidRemapper(""), (e) => isImagingError(e, "INVALID_ARGUMENT"));
});

test("should write a file without PHI but with the same pixels when a Part 10 file is de-identified", () => {
  const files = phiSeries();
  const cleaned = files.map((f) => deidentifyPart10(f, { uidSalt: "org-1" }));
  const text = Buffer.concat(cleaned).toString("latin1");
  for (const s of [...PHI, ...originalUIDs(files[0]!)]) assert.ok(!text.includes(s), `de-identified file leaks ${s}`);
  const ds = dicomParser.parseDicom(cleaned[0]!);
  assert.equal(ds.string("x00120062"), "YES");
  assert.equal(ds.string("x0020000e"), createUidRemapper("org-1")(originalUIDs(files[0]!)[1]!));
  const before = decodeDicomSeries(files);
  const after = decodeDicomSeries(cleaned);
  assert.deepEqual(Array.from(after.data), Array.from(before.data));
  assert.deepEqual(after.originLPS, before.originLPS);
  assert.equal(ds.string("x00020003"), ds.string("x00080018"));
});

test("should remove private tags and empty the patient name inside sequences when a dict is de-identified", () => {
  const dict: DicomDict = {
    "00100010": { vr: "PN", Value: [{ Alphabetic: "DOE^JANE" }] },
    "00081115": { vr: "SQ", Value: [{ "00100020": { vr: "LO", Value: ["MRN-0042"] }, "00291010": { vr: "OB", Value: [] } }] },
    "00280010": { vr: "US", Value: [4] },
  };
  deidentifyDicomDict(dict, { uidSalt: "s" });
  assert.deepEqual(dict["00100010"]!.Value, []);
  assert.deepEqual((dict["00081115"]!.Value![0] as DicomDict)["00100020"]!.Value, []);
  assert.equal((dict["00081115"]!.Value![0] as DicomDict)["00291010"], undefined);
  assert.deepEqual(dict["00280010"]!.Value, [4]);
});
