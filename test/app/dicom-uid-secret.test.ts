// DICOM_UID_SECRET: parsed like the other secrets, and embedded mode's own key, generated once per
// PGlite data folder and used by the server it starts, so mapped UIDs survive a restart.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { mkdtemp, readFile, rm, stat, writeFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { pino } from "pino";
import { ConfigError, parseConfig } from "../../app/config/parse-config.ts";
import { embeddedDicomUidSecret, embeddedDicomUidSecretFile } from "../../app/embedded-dicom-uid-secret.ts";
import { startEmbedded } from "../../app/start-embedded.ts";
import { writeDicomSeries } from "../../imaging/dicom/dicom-series-writer.ts";
import { IDENTITY_DIRECTION_LPS } from "../../imaging/volume.ts";

describe("DICOM_UID_SECRET in the configuration", () => {
  it("should refuse DICOM_UID_SECRET when it is missing or shorter than 32 characters", () => {
    assert.throws(() => parseConfig({}, ["DICOM_UID_SECRET"]), (e) => e instanceof ConfigError && /DICOM_UID_SECRET/.test(e.message));
    assert.throws(() => parseConfig({ DICOM_UID_SECRET: "x".repeat(31) }, ["DICOM_UID_SECRET"]), (e) => e instanceof ConfigError && /DICOM_UID_SECRET/.test(e.message));
    assert.equal(parseConfig({ DICOM_UID_SECRET: "x".repeat(32) }, ["DICOM_UID_SECRET"]).DICOM_UID_SECRET, "x".repeat(32));
  });
});

describe("embedded mode's DICOM UID secret", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(tmpdir(), "coinseg-uid-secret-"))));
  after(async () => rm(dir, { recursive: true, force: true }));

  it("should generate the secret once and read it back when the same data folder starts again", async () => {
    const dataDir = path.join(dir, "a", "pglite");
    const first = await embeddedDicomUidSecret(dataDir);
    assert.match(first, /^[0-9a-f]{64}$/);
    assert.equal(await embeddedDicomUidSecret(dataDir), first);
    const file = embeddedDicomUidSecretFile(dataDir);
    assert.equal(file, `${path.resolve(dataDir)}.dicom-uid-secret`);
    assert.equal((await readFile(file, "utf8")).trim(), first);
    assert.equal((await stat(file)).mode & 0o777, 0o600, "readable by its owner only");
    await assert.rejects(stat(dataDir), { code: "ENOENT" }, "nothing is written into the PGlite folder itself");
  });

  it("should give each data folder its own secret when two folders are used", async () => {
    assert.notEqual(await embeddedDicomUidSecret(path.join(dir, "b")), await embeddedDicomUidSecret(path.join(dir, "c")));
  });

  it("should return a fresh secret and store nothing when the database is memory://", async () => {
    assert.notEqual(await embeddedDicomUidSecret("memory://"), await embeddedDicomUidSecret("memory://"));
  });

  it("should refuse, and leave the file as it is, when the stored secret is shorter than 32 characters", async () => {
    const dataDir = path.join(dir, "short");
    await writeFile(embeddedDicomUidSecretFile(dataDir), "too-short\n");
    await assert.rejects(embeddedDicomUidSecret(dataDir), /at least 32 characters/);
    assert.equal(await readFile(embeddedDicomUidSecretFile(dataDir), "utf8"), "too-short\n");
  });
});

describe("embedded server and its DICOM UID secret", () => {
  let dir: string;
  before(async () => (dir = await mkdtemp(path.join(tmpdir(), "coinseg-uid-embedded-"))));
  after(async () => rm(dir, { recursive: true, force: true }));

  const files = writeDicomSeries(
    { dimsIJK: [4, 3, 2], spacingMm: [1, 1, 2], originLPS: [0, 0, 0], directionLPS: IDENTITY_DIRECTION_LPS, unit: "HU", data: new Int16Array(24) },
    { uidSeed: "embedded-uid-secret" },
  );

  /** Starts embedded mode on `pgliteDataDir`, imports the series into a new study of the demo organisation, stops, and returns the stored series UID. */
  async function importOnce(pgliteDataDir: string, dicomUidSecret?: string): Promise<string> {
    const instance = await startEmbedded(
      {
        modelsDir: path.join(dir, "no-models"), pgliteDataDir, localStoreDir: path.join(dir, "objects"), host: "127.0.0.1", port: 0,
        jwt: { secret: "e".repeat(40), issuer: "coinseg", audience: "coinseg-api" }, ...(dicomUidSecret ? { dicomUidSecret } : {}),
        introspection: true, maxDepth: 12, maxCost: 20000, uploadMaxBytes: 1 << 20, uploadUrlTtlSeconds: 60,
      },
      pino({ level: "silent" }),
    );
    try {
      const gql = async (query: string, variables: Record<string, unknown>) => {
        const res = await fetch(instance.server.graphqlUrl, {
          method: "POST", headers: { "content-type": "application/json", "x-api-key": instance.bootstrap.apiKey }, body: JSON.stringify({ query, variables }),
        });
        const body = (await res.json()) as { data: Record<string, any>; errors?: unknown };
        assert.equal(body.errors, undefined, JSON.stringify(body.errors));
        return body.data;
      };
      const studyId = (await gql("mutation($t: String!) { createStudy(input: { title: $t }) { study { id } } }", { t: "uid" })).createStudy.study.id as string;
      const uploadKeys: string[] = [];
      for (const f of files) {
        const ticket = (await gql("mutation($n: Int!) { requestUpload(input: { format: DICOM, contentType: \"application/dicom\", sizeBytes: $n }) { uploadKey url method headers } }", { n: f.length })).requestUpload;
        const put = await fetch(ticket.url, { method: ticket.method, headers: ticket.headers, body: Buffer.from(f) });
        assert.equal(put.status, 200);
        uploadKeys.push(ticket.uploadKey);
      }
      const imported = await gql("mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { series { seriesInstanceUID } } } }", { i: { studyId, uploadKeys, format: "DICOM" } });
      return imported.importStudy.study.series[0].seriesInstanceUID as string;
    } finally {
      await instance.stop();
    }
  }

  it("should map a source UID the same way after a restart on the same data folder, and differently with another DICOM_UID_SECRET", async () => {
    const dataDir = path.join(dir, "pglite");
    const first = await importOnce(dataDir);
    assert.equal(await importOnce(dataDir), first, "the secret kept beside the data folder is used again");
    assert.notEqual(await importOnce(dataDir, "configured-dicom-uid-secret-0123456789ab"), first, "DICOM_UID_SECRET, when set, replaces it");
  });
});
