// DICOM through the API: requestUpload → PUT → importStudy(format: DICOM) on a phantom CT series
// whose headers carry a made-up patient identity, which must not reach rows, audit events or logs.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { pino } from "pino";
import { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import type { ObjectStore } from "../../core/ports/object-store.port.ts";
import { writeDicomSeries } from "../../imaging/dicom/dicom-series-writer.ts";
import { parseDicomPart10 } from "../../imaging/dicom/parse-dicom-part10.ts";
import { generateBenchmarkScan } from "../../imaging/phantom/benchmark-scan.ts";
import type { Volume } from "../../imaging/volume.ts";
import { startApiHarness, codes, TEST_DICOM_UID_SECRET, type ApiHarness, type GqlResponse } from "./support/api-harness.ts";
import { COMPRESSED_FRAGMENTS, encapsulatePixelData, withTransferSyntax } from "../imaging/decoders/fixtures.ts";
import { createStudy, upload } from "./support/study-flow.ts";

const IMPORT = `mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { id status studyInstanceUID
  series { seriesInstanceUID description sourceFormat dimsIJK spacingMm originLPS directionLPS }
  slices(first: 50) { totalCount edges { node { sliceIndex width height spacingMm positionLPS } } } } } }`;

/** The identity written into the source headers; none of it may be stored or logged. */
const PHI = {
  patientName: "QUIMBY^HORTENSE^M",
  patientId: "MRN-40417733",
  birthDate: "19540923",
  institution: "ST ELSEWHERE GENERAL HOSPITAL",
  referringPhysician: "KILDARE^JAMES",
  accession: "ACC-99812345",
  studyDescription: "CT ABDOMEN QUIMBY FOLLOW-UP",
  address: "42 LILAC LANE, SPRINGFIELD",
} as const;

/** A small kidney-lesion phantom (40 × 32 px, 6 slices) in HU, with a non-trivial origin. */
function phantomVolume(): Volume {
  const geometry = { width: 40, height: 32, slices: 6, pixelMm: 9, sliceMm: 28 };
  const scan = generateBenchmarkScan(1, { benchmark: "kidney-lesion", seed: 11, windowHU: [-7, 256], geometry });
  return {
    dimsIJK: [40, 32, 6], spacingMm: [9, 9, 28], originLPS: [-175.5, -139.5, 12], unit: "HU", data: scan.volumeHU,
    directionLPS: [[1, 0, 0], [0, 1, 0], [0, 0, 1]],
  };
}

function phantomSeries(volume: Volume, uidSeed: string): Uint8Array[] {
  return writeDicomSeries(volume, {
    uidSeed,
    patient: { name: PHI.patientName, id: PHI.patientId, birthDate: PHI.birthDate },
    extraAttributes: {
      "00080080": { vr: "LO", Value: [PHI.institution] },
      "00080090": { vr: "PN", Value: [{ Alphabetic: PHI.referringPhysician }] },
      "00080050": { vr: "SH", Value: [PHI.accession] },
      "00081030": { vr: "LO", Value: [PHI.studyDescription] },
      "00101040": { vr: "LO", Value: [PHI.address] },
    },
  });
}

/** The UIDs of the source headers (study, series, frame of reference, every SOP instance). */
function sourceUids(files: readonly Uint8Array[]): string[] {
  const uids = new Set<string>();
  for (const f of files) {
    const ds = parseDicomPart10(f, 1 << 20).dataSet;
    for (const tag of ["x0020000d", "x0020000e", "x00200052", "x00080018"]) uids.add(ds.string(tag)!);
  }
  return [...uids];
}

describe("DICOM import through the API", () => {
  let api: ApiHarness;
  const logLines: string[] = [];
  const volume = phantomVolume();
  const files = phantomSeries(volume, "dicom-import-test");
  const nz = volume.dimsIJK[2];
  before(async () => {
    const sink = new Writable({ write: (chunk, _enc, done) => void (logLines.push(String(chunk)), done()) });
    api = await startApiHarness({ logger: pino({ level: "trace" }, sink) });
  });
  after(async () => api.close());

  /** Uploads the files in a shuffled order and imports them into `studyId` through `server`. */
  async function importInto(key: string, studyId: string, series: readonly Uint8Array[], server: ApiHarness = api): Promise<{ res: GqlResponse; uploadKeys: string[] }> {
    const shuffled = [3, 0, 5, 1, 4, 2].map((k) => series[k]!);
    const uploadKeys: string[] = [];
    for (const f of shuffled) uploadKeys.push(await upload(server, key, f, "DICOM", "application/dicom"));
    return { res: await server.gql(key, IMPORT, { i: { studyId, uploadKeys, format: "DICOM" } }), uploadKeys };
  }

  /** Imports the files into a new study through `server` and returns the study and the upload keys. */
  async function importSeries(key: string, series: readonly Uint8Array[], server: ApiHarness = api): Promise<{ studyId: string; study: any; uploadKeys: string[] }> {
    const studyId = await createStudy(server, key, "dicom");
    const { res, uploadKeys } = await importInto(key, studyId, series, server);
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    return { studyId, study: res.body.data!.importStudy.study, uploadKeys };
  }

  it("should store one slice per file in position order with the series geometry when a shuffled DICOM series is imported", async () => {
    const { studyId, study, uploadKeys } = await importSeries(api.seed.annotatorA.key, files);
    assert.equal(study.status, "READY");
    assert.equal(study.series.length, 1);
    const series = study.series[0];
    assert.equal(series.sourceFormat, "DICOM");
    assert.deepEqual(series.dimsIJK, [40, 32, nz]);
    assert.deepEqual(series.spacingMm, [9, 9, 28]);
    assert.deepEqual(series.originLPS, [-175.5, -139.5, 12]);
    assert.deepEqual(series.directionLPS, [1, 0, 0, 0, 1, 0, 0, 0, 1]);
    assert.equal(study.slices.totalCount, nz);
    assert.deepEqual(
      study.slices.edges.map((e: any) => e.node),
      Array.from({ length: nz }, (_, k) => ({ sliceIndex: k, width: 40, height: 32, spacingMm: [9, 9], positionLPS: [-175.5, -139.5, 12 + 28 * k] })),
    );
    // The stored pixels of slice k are the source's slice k in HU, whatever the upload order was.
    const rows = await api.db.prisma.slice.findMany({ where: { studyId }, orderBy: { sliceIndex: "asc" } });
    const plane = 40 * 32;
    for (const row of rows) {
      const bytes = (await api.store.get(row.storageKey))!;
      const stored = new Float32Array(bytes.buffer, bytes.byteOffset, plane);
      const source = volume.data.subarray(row.sliceIndex * plane, (row.sliceIndex + 1) * plane);
      assert.deepEqual(Array.from(stored), Array.from(source), `slice ${row.sliceIndex}`);
    }
    // The uploaded files, headers and all, are gone: the slices above were read from the study's own keys.
    for (const k of uploadKeys) assert.equal(await api.store.head(k), null, `upload ${k} deleted`);
  });

  it("should set the study's studyInstanceUID to the mapped UID, keep it for another series of that DICOM study and answer INVALID_STATE for a series of another one", async () => {
    const key = api.seed.annotatorA.key;
    const sourceStudyUid = parseDicomPart10(files[0]!, 1 << 20).dataSet.string("x0020000d")!;
    const { studyId, study } = await importSeries(key, files);
    assert.match(study.studyInstanceUID, /^2\.25\.\d{1,39}$/);
    assert.notEqual(study.studyInstanceUID, sourceStudyUid);
    assert.equal((await api.db.prisma.study.findUniqueOrThrow({ where: { id: studyId } })).studyInstanceUID, study.studyInstanceUID);
    assert.equal((await importSeries(api.seed.adminA.key, files)).study.studyInstanceUID, study.studyInstanceUID, "mapped consistently");

    // A second series of the same DICOM study joins it.
    const sameStudy = writeDicomSeries(volume, { uidSeed: "second-series-same-study", extraAttributes: { "0020000D": { vr: "UI", Value: [sourceStudyUid] } } });
    const second = await importInto(key, studyId, sameStudy);
    assert.equal(second.res.body.errors, undefined, JSON.stringify(second.res.body.errors));
    assert.equal(second.res.body.data!.importStudy.study.studyInstanceUID, study.studyInstanceUID);
    assert.equal(second.res.body.data!.importStudy.study.series.length, 2);

    // A series of another DICOM study does not: the study stays as it was, and the uploads stay for an import elsewhere.
    const before = JSON.stringify(await api.db.prisma.study.findUniqueOrThrow({ where: { id: studyId }, include: { series: true, slices: true } }));
    const other = await importInto(key, studyId, phantomSeries(volume, "another-study"));
    assert.deepEqual(codes(other.res), ["INVALID_STATE"]);
    assert.equal(JSON.stringify(await api.db.prisma.study.findUniqueOrThrow({ where: { id: studyId }, include: { series: true, slices: true } })), before);
    for (const k of other.uploadKeys) assert.notEqual(await api.store.head(k), null, "kept for a retry");
    const elsewhere = await createStudy(api, key, "other study");
    const retry = await api.gql(key, IMPORT, { i: { studyId: elsewhere, uploadKeys: other.uploadKeys, format: "DICOM" } });
    assert.equal(retry.body.errors, undefined, JSON.stringify(retry.body.errors));
    assert.notEqual(retry.body.data!.importStudy.study.studyInstanceUID, study.studyInstanceUID);
  });

  it("should keep the patient identity and source UIDs out of rows, audit events and logs when a series is imported", async () => {
    const { studyId } = await importSeries(api.seed.annotatorA.key, files);
    const forbidden = [...Object.values(PHI), "QUIMBY", "HORTENSE", "KILDARE", ...sourceUids(files)];
    const source = Buffer.concat(files).toString("latin1");
    for (const value of forbidden) assert.ok(source.includes(value), `the source headers carry ${value}`);
    // Every row of every table, as JSON text.
    const tables = await api.db.prisma.$queryRawUnsafe<{ tablename: string }[]>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
    let dump = "";
    for (const { tablename } of tables) {
      const rows = await api.db.prisma.$queryRawUnsafe<{ row: unknown }[]>(`SELECT row_to_json(t)::text AS row FROM "${tablename}" t`);
      dump += rows.map((r) => String(r.row)).join("\n");
    }
    const audit = await api.db.prisma.auditEvent.findMany({ where: { entityId: studyId } });
    assert.deepEqual(audit.map((e) => e.action).sort(), ["study.create", "study.import"]);
    assert.ok(dump.includes(studyId), "the dump holds the imported study");
    assert.ok(logLines.length > 0, "the server logged the requests");
    const logs = logLines.join("");
    const upper = { rows: dump.toUpperCase(), logs: logs.toUpperCase() };
    for (const value of forbidden) {
      assert.ok(!upper.rows.includes(value.toUpperCase()), `stored rows contain ${value}`);
      assert.ok(!upper.logs.includes(value.toUpperCase()), `logs contain ${value}`);
    }
  });

  it("should map the source series UID to the same UID within an organisation and to different ones across organisations", async () => {
    const sourceSeriesUid = parseDicomPart10(files[0]!, 1 << 20).dataSet.string("x0020000e")!;
    const first = (await importSeries(api.seed.annotatorA.key, files)).study.series[0].seriesInstanceUID as string;
    const again = (await importSeries(api.seed.adminA.key, files)).study.series[0].seriesInstanceUID as string;
    const otherOrg = (await importSeries(api.seed.adminB.key, files)).study.series[0].seriesInstanceUID as string;
    const otherSeries = (await importSeries(api.seed.annotatorA.key, phantomSeries(volume, "another-series"))).study.series[0].seriesInstanceUID as string;
    assert.match(first, /^2\.25\.\d{1,39}$/);
    assert.notEqual(first, sourceSeriesUid);
    assert.equal(again, first, "same organisation, same source series");
    assert.notEqual(otherOrg, first, "another organisation gets an unrelated UID");
    assert.match(otherOrg, /^2\.25\.\d{1,39}$/);
    assert.notEqual(otherSeries, first, "another source series gets another UID");
    const stored = await api.db.prisma.series.findMany({ where: { seriesInstanceUID: { in: [first, otherOrg] } }, select: { organizationId: true, seriesInstanceUID: true } });
    assert.deepEqual(new Set(stored.filter((s) => s.seriesInstanceUID === first).map((s) => s.organizationId)), new Set([api.seed.orgA]));
    assert.deepEqual(new Set(stored.filter((s) => s.seriesInstanceUID === otherOrg).map((s) => s.organizationId)), new Set([api.seed.orgB]));
  });

  it("should map the same source series differently when two servers have different DICOM_UID_SECRETs, and identically when they share one", async () => {
    // Servers of one deployment over the same database and store: the organisation id is the same for all three.
    const otherSecret = await startApiHarness({ sharing: api, dicomUidSecret: "another-dicom-uid-secret-0123456789abcd" });
    const sameSecret = await startApiHarness({ sharing: api, dicomUidSecret: TEST_DICOM_UID_SECRET });
    try {
      const key = api.seed.annotatorA.key;
      const first = (await importSeries(key, files)).study.series[0].seriesInstanceUID as string;
      const again = (await importSeries(key, files)).study.series[0].seriesInstanceUID as string;
      const other = (await importSeries(key, files, otherSecret)).study.series[0].seriesInstanceUID as string;
      const same = (await importSeries(key, files, sameSecret)).study.series[0].seriesInstanceUID as string;
      assert.equal(again, first, "one server maps a source UID consistently");
      assert.match(other, /^2\.25\.\d{1,39}$/);
      assert.notEqual(other, first, "another secret, another mapping, for the same organisation and source UID");
      assert.equal(same, first, "the configured secret, not the process, decides the mapping");
    } finally {
      await otherSecret.close();
      await sameSecret.close();
    }
  });

  it("should answer UNSUPPORTED_TRANSFER_SYNTAX naming the syntax and leave the study empty when the series is JPEG compressed", async () => {
    const key = api.seed.annotatorA.key;
    for (const [uid, name, fragment] of [["1.2.840.10008.1.2.4.50", "JPEG Baseline", COMPRESSED_FRAGMENTS.jpeg], ["1.2.840.10008.1.2.4.91", "JPEG 2000", COMPRESSED_FRAGMENTS.jpeg2000]] as const) {
      const studyId = await createStudy(api, key, "compressed");
      const uploadKeys: string[] = [];
      for (const f of files.slice(0, 2)) {
        const compressed = withTransferSyntax(f, uid, (dataSet) => encapsulatePixelData(dataSet, [fragment]));
        uploadKeys.push(await upload(api, key, compressed, "DICOM", "application/dicom"));
      }
      const res = await api.gql(key, IMPORT, { i: { studyId, uploadKeys, format: "DICOM" } });
      assert.deepEqual(codes(res), ["UNSUPPORTED_TRANSFER_SYNTAX"]);
      assert.ok(res.body.errors![0]!.message.includes(`${name}`) && res.body.errors![0]!.message.includes(uid), res.body.errors![0]!.message);
      assert.equal((await api.db.prisma.study.findUniqueOrThrow({ where: { id: studyId } })).status, "EMPTY");
      assert.equal(await api.db.prisma.slice.count({ where: { studyId } }), 0);
    }
  });
});

/** A store whose deleteObjects always fails, as a bucket policy without s3:DeleteObject would make it. */
class UndeletableStore implements ObjectStore {
  constructor(private readonly inner: ObjectStore) {}
  put(key: string, bytes: Uint8Array, contentType?: string) { return this.inner.put(key, bytes, contentType); }
  get(key: string) { return this.inner.get(key); }
  head(key: string) { return this.inner.head(key); }
  deletePrefix(prefix: string) { return this.inner.deletePrefix(prefix); }
  async deleteObjects(): Promise<void> { throw new Error("AccessDenied: not allowed to delete"); }
  createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }) { return this.inner.createUploadUrl(key, options); }
}

describe("DICOM import when the uploads cannot be deleted", () => {
  let api: ApiHarness;
  let dir: string;
  const logLines: string[] = [];
  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-undeletable-"));
    const local = new LocalObjectStore({ rootDir: dir, publicBaseUrl: () => "http://127.0.0.1:9", signingSecret: "z".repeat(32) });
    const sink = new Writable({ write: (chunk, _enc, done) => void (logLines.push(String(chunk)), done()) });
    api = await startApiHarness({ objectStore: new UndeletableStore(local), logger: pino({ level: "info" }, sink) });
  });
  after(async () => {
    await api.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("should import the series and log a warning without PHI when deleting the uploads fails", async () => {
    const key = api.seed.annotatorA.key;
    const files = phantomSeries(phantomVolume(), "undeletable");
    const studyId = await createStudy(api, key, "undeletable");
    const uploadKeys: string[] = [];
    for (const f of files) {
      // The upload URL is never fetched here: objects are written straight to the store, as a client could via S3.
      const res = await api.gql(key, "mutation { requestUpload(input: { format: DICOM, contentType: \"application/dicom\", sizeBytes: 100 }) { uploadKey } }");
      const uploadKey = res.body.data!.requestUpload.uploadKey as string;
      await api.store.put(uploadKey, f, "application/dicom");
      uploadKeys.push(uploadKey);
    }
    const res = await api.gql(key, IMPORT, { i: { studyId, uploadKeys, format: "DICOM" } });
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.equal(res.body.data!.importStudy.study.status, "READY");
    const warnings = logLines.map((l) => JSON.parse(l) as Record<string, unknown>).filter((l) => l["msg"] === "uploads not deleted after import");
    assert.equal(warnings.length, 1);
    assert.deepEqual(
      { level: warnings[0]!["level"], organizationId: warnings[0]!["organizationId"], studyId: warnings[0]!["studyId"], after: warnings[0]!["after"], uploadCount: warnings[0]!["uploadCount"] },
      { level: 40, organizationId: api.seed.orgA, studyId, after: "IMPORTED", uploadCount: files.length },
    );
    const logs = logLines.join("").toUpperCase();
    for (const value of [...Object.values(PHI), ...sourceUids(files)]) assert.ok(!logs.includes(value.toUpperCase()), `logs contain ${value}`);
  });
});
