import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { createLambdaHandler } from "../../app/lambda/create-lambda-handler.ts";
import { ConfigError } from "../../app/config/parse-config.ts";
import { ImagingVolumeDecoder } from "../../adapters/imaging/imaging-volume-decoder.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { writeDicomSeries } from "../../imaging/dicom/dicom-series-writer.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../adapters/support/migrated-database.ts";
import { PNG } from "pngjs";
import { httpApiEvent, httpApiGetEvent } from "./support/http-api-event.ts";

const motoUrl = process.env.MOTO_ENDPOINT_URL;
const JWT_SECRET = "j".repeat(40);
/** The function's own key of the DICOM UID mapping (in AWS: its DICOM_UID_SECRET_ARN secret). */
const DICOM_UID_SECRET = "lambda-dicom-uid-secret-0123456789abcdef";

describe("Lambda handler (API Gateway v2)", () => {
  let db: MigratedDatabase;
  let handler: ReturnType<typeof createLambdaHandler>;
  let apiKey: string;
  let organizationId: string;
  const bucket = `coinseg-lambda-${randomBytes(4).toString("hex")}`;

  before(async () => {
    assert.ok(motoUrl, "MOTO_ENDPOINT_URL is not set: start moto (python3 -m moto.server -p 4566 -H 127.0.0.1) as .ci/run does");
    const s3 = new S3Client({ region: "us-east-1", endpoint: motoUrl, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    db = await createMigratedDatabase();
    const identities = new PrismaIdentityRepository(db.prisma);
    const org = await identities.createOrganization({ slug: "l", name: "L" });
    organizationId = org.id;
    const { userId } = await identities.upsertMember({ organizationId: org.id, email: "l@l", name: "l", role: "ANNOTATOR" });
    apiKey = (await new AuthService(identities, { verify: async () => null }).issueApiKey(org.id, userId, "lambda")).key;
    handler = createLambdaHandler({
      DATABASE_URL: db.url, JWT_SECRET, DICOM_UID_SECRET, LOG_LEVEL: "silent", OBJECT_STORE: "s3", S3_BUCKET: bucket, S3_ENDPOINT: motoUrl,
      AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
      // Required by the handler (it sends each new job's tasks); these tests request no job, so it is never called.
      SQS_QUEUE_URL: `${motoUrl}/123456789012/coinseg-lambda-unused`, SQS_ENDPOINT: motoUrl,
    });
  });
  after(async () => {
    await handler?.dispose();
    await db?.close();
  });

  async function invoke(body: unknown, headers: Record<string, string> = {}) {
    const result = await handler(httpApiEvent(body, headers), {} as Context, () => {});
    const r = result as { statusCode: number; body: string; headers?: Record<string, string> };
    return { statusCode: r.statusCode, json: JSON.parse(r.body) as { data?: any; errors?: { extensions?: { code?: string } }[] } };
  }

  it("should run a mutation and return its data when invoked with an API key", async () => {
    const res = await invoke({ query: 'mutation { createStudy(input: { title: "from lambda" }) { study { id title status } } }' }, { "x-api-key": apiKey });
    assert.equal(res.statusCode, 200);
    assert.equal(res.json.data.createStudy.study.title, "from lambda");
    assert.equal(await db.prisma.study.count(), 1);
  });

  it("should return a presigned S3 URL when an upload is requested", async () => {
    const res = await invoke({ query: 'mutation { requestUpload(input: { format: PNG, contentType: "image/png", sizeBytes: 10 }) { url uploadKey } }' }, { "x-api-key": apiKey });
    assert.equal(res.statusCode, 200, JSON.stringify(res.json));
    assert.ok(res.json.data.requestUpload.url.startsWith(`${motoUrl}/${bucket}/orgs/`));
    assert.match(res.json.data.requestUpload.url, /X-Amz-Signature=/);
  });

  it("should map a DICOM series' UIDs with DICOM_UID_SECRET when the series is imported through the function", async () => {
    const dims: [number, number, number] = [8, 6, 2];
    const files = writeDicomSeries({
      dimsIJK: dims, spacingMm: [1, 1, 2], originLPS: [0, 0, 0], directionLPS: [[1, 0, 0], [0, 1, 0], [0, 0, 1]], unit: "HU", data: new Float32Array(8 * 6 * 2).fill(40),
    }, { uidSeed: "lambda-dicom" });
    const created = await invoke({ query: 'mutation { createStudy(input: { title: "dicom" }) { study { id } } }' }, { "x-api-key": apiKey });
    const studyId = created.json.data.createStudy.study.id as string;
    const uploadKeys: string[] = [];
    for (const bytes of files) {
      const res = await invoke({
        query: "mutation($i: RequestUploadInput!) { requestUpload(input: $i) { url headers uploadKey } }",
        variables: { i: { format: "DICOM", contentType: "application/dicom", sizeBytes: bytes.length } },
      }, { "x-api-key": apiKey });
      const ticket = res.json.data.requestUpload;
      const put = await fetch(ticket.url, { method: "PUT", headers: ticket.headers, body: Buffer.from(bytes) });
      assert.equal(put.status, 200, await put.text());
      uploadKeys.push(ticket.uploadKey);
    }
    const imported = await invoke({
      query: "mutation($i: ImportStudyInput!) { importStudy(input: $i) { study { studyInstanceUID series { seriesInstanceUID } } } }",
      variables: { i: { studyId, uploadKeys, format: "DICOM" } },
    }, { "x-api-key": apiKey });
    assert.equal(imported.json.errors, undefined, JSON.stringify(imported.json.errors));
    const study = imported.json.data.importStudy.study;
    const mappedWith = async (uidSecret: string) => (await new ImagingVolumeDecoder({}, { uidSecret }).decode(files, "DICOM", { organizationId })).volume.meta;
    const expected = await mappedWith(DICOM_UID_SECRET);
    assert.equal(study.studyInstanceUID, expected?.studyInstanceUID);
    assert.equal(study.series[0].seriesInstanceUID, expected?.seriesInstanceUID);
    assert.notEqual(study.studyInstanceUID, (await mappedWith(JWT_SECRET))?.studyInstanceUID, "the key is DICOM_UID_SECRET, not JWT_SECRET");

    // The slice's preview through the same function (pixels from S3): 40 HU everywhere, default window [-160, 240].
    const slices = await invoke({ query: "query($id: ID!) { study(id: $id) { slices { edges { node { id } } } } }", variables: { id: studyId } }, { "x-api-key": apiKey });
    const sliceId = slices.json.data.study.slices.edges[0].node.id as string;
    const get = async (query: Record<string, string>, headers: Record<string, string>) =>
      (await handler(httpApiGetEvent(`/slices/${sliceId}/preview.png`, query, headers), {} as Context, () => {})) as { statusCode: number; body: string; isBase64Encoded?: boolean; headers: Record<string, string> };
    const ok = await get({}, { "x-api-key": apiKey });
    assert.equal(ok.statusCode, 200);
    assert.equal(ok.headers["content-type"], "image/png");
    assert.equal(ok.isBase64Encoded, true);
    const png = PNG.sync.read(Buffer.from(ok.body, "base64"));
    assert.deepEqual([png.width, png.height, png.data[0]], [8, 6, Math.round((200 * 255) / 400)]);
    const denied = await get({}, {});
    assert.deepEqual([denied.statusCode, JSON.parse(denied.body).code], [401, "UNAUTHENTICATED"]);
    const bad = await get({ window: "9,1" }, { "x-api-key": apiKey });
    assert.deepEqual([bad.statusCode, JSON.parse(bad.body).code], [400, "BAD_USER_INPUT"]);
    // GET /jobs/:id/masks.nii.gz is routed to the same function too (its logic: test/api/job-masks.test.ts).
    const masks = async (headers: Record<string, string>) =>
      (await handler(httpApiGetEvent("/jobs/00000000-0000-4000-8000-000000000000/masks.nii.gz", {}, headers), {} as Context, () => {})) as { statusCode: number; body: string };
    const unknownJob = await masks({ "x-api-key": apiKey });
    assert.deepEqual([unknownJob.statusCode, JSON.parse(unknownJob.body).code], [404, "NOT_FOUND"]);
    const anonymous = await masks({});
    assert.deepEqual([anonymous.statusCode, JSON.parse(anonymous.body).code], [401, "UNAUTHENTICATED"]);
  });

  it("should refuse to start, naming DICOM_UID_SECRET, when it is missing or shorter than 32 characters", () => {
    const env = { DATABASE_URL: db.url, JWT_SECRET, LOG_LEVEL: "silent", OBJECT_STORE: "s3", S3_BUCKET: bucket, SQS_QUEUE_URL: "http://127.0.0.1:9/q" };
    for (const dicom of [{}, { DICOM_UID_SECRET: "x".repeat(31) }]) {
      assert.throws(() => createLambdaHandler({ ...env, ...dicom }), (e: unknown) => e instanceof ConfigError && /DICOM_UID_SECRET/.test(e.message));
    }
  });

  it("should answer UNAUTHENTICATED when invoked without credentials", async () => {
    const res = await invoke({ query: "{ viewer { role } }" });
    assert.deepEqual(res.json.errors?.map((e) => e.extensions?.code), ["UNAUTHENTICATED"]);
  });
});
