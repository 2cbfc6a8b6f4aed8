import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { readFileSync } from "node:fs";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { createLambdaHandler } from "../../app/lambda/create-lambda-handler.ts";
import { ConfigError } from "../../app/config/parse-config.ts";
import { VIEWER_CSP, viewerCsp } from "../../app/api/viewer-route.ts";
import * as rle from "../../core/domain/rle.ts";
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
/** The WebSocket API stage the viewer it serves streams from (in AWS: the stack's stage URL). */
const VIEWER_STREAM_URL = "wss://abc123.execute-api.us-east-1.amazonaws.com/live";

describe("Lambda handler (API Gateway v2)", () => {
  let db: MigratedDatabase;
  let handler: ReturnType<typeof createLambdaHandler>;
  let apiKey: string;
  let organizationId: string;
  let environment: Record<string, string>;
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
    environment = {
      DATABASE_URL: db.url, JWT_SECRET, DICOM_UID_SECRET, LOG_LEVEL: "silent", OBJECT_STORE: "s3", S3_BUCKET: bucket, S3_ENDPOINT: motoUrl,
      AWS_REGION: "us-east-1", AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test",
      // Required by the handler (it sends each new job's tasks); these tests request no job, so it is never called.
      SQS_QUEUE_URL: `${motoUrl}/123456789012/coinseg-lambda-unused`, SQS_ENDPOINT: motoUrl,
      VIEWER_STREAM_URL,
    };
    handler = createLambdaHandler(environment);
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

  /** A GET through the handler: status, headers and the body's bytes (API Gateway decodes base64 bodies). */
  async function get(path: string, headers: Record<string, string> = {}, on = handler) {
    const r = (await on(httpApiGetEvent(path, {}, headers), {} as Context, () => {})) as { statusCode: number; headers: Record<string, string>; body: string; isBase64Encoded?: boolean };
    return { status: r.statusCode, headers: r.headers, body: Buffer.from(r.body, r.isBase64Encoded ? "base64" : "utf8") };
  }

  describe("web viewer", () => {
    const apigw = { stream: { protocol: "apigw", url: VIEWER_STREAM_URL } } as const;

    it("should serve the page, its stylesheet, script and icon, and graphql-ws's browser build, with the viewer's headers and a CSP that allows the stream's origin", async () => {
      const files = {
        "/viewer/": ["text/html; charset=utf-8", "app/viewer/index.html"],
        "/viewer/index.html": ["text/html; charset=utf-8", "app/viewer/index.html"],
        "/viewer/viewer.css": ["text/css; charset=utf-8", "app/viewer/viewer.css"],
        "/viewer/viewer.js": ["text/javascript; charset=utf-8", "app/viewer/viewer.js"],
        "/viewer/favicon.svg": ["image/svg+xml", "app/viewer/favicon.svg"],
        "/viewer/vendor/graphql-ws.js": ["text/javascript; charset=utf-8", "node_modules/graphql-ws/umd/graphql-ws.min.js"],
      } as const;
      for (const [path, [contentType, file]] of Object.entries(files)) {
        const res = await get(path);
        assert.equal(res.status, 200, path);
        assert.equal(res.headers["content-type"], contentType, path);
        assert.equal(res.headers["content-security-policy"], viewerCsp(apigw), path);
        assert.equal(res.headers["x-content-type-options"], "nosniff", path);
        assert.equal(res.headers["referrer-policy"], "no-referrer", path);
        assert.equal(res.headers["cache-control"], "no-cache", path);
        assert.ok(res.body.equals(readFileSync(new URL(`../../${file}`, import.meta.url))), `${path}: the bytes of ${file}`);
      }
      assert.match(viewerCsp(apigw), /; connect-src 'self' wss:\/\/abc123\.execute-api\.us-east-1\.amazonaws\.com; /);
    });

    it("should serve core/domain/rle.ts to the browser as an ES module that decodes masks as the server does", async () => {
      const res = await get("/viewer/lib/rle.js");
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], "text/javascript; charset=utf-8");
      assert.equal(res.headers["content-security-policy"], viewerCsp(apigw));
      const served = (await import(`data:text/javascript;base64,${res.body.toString("base64")}`)) as typeof import("../../core/domain/rle.ts");
      const mask = Uint8Array.from({ length: 300 }, (_, i) => ((i * 7919) % 13 < 4 ? 1 : 0));
      const runs = rle.encodeRle(mask);
      assert.deepEqual(served.encodeRle(mask), runs);
      assert.deepEqual(served.decodeRle(runs, mask.length), rle.decodeRle(runs, mask.length));
      assert.throws(() => served.decodeRle(runs, mask.length + 1), RangeError); // the server's checks come along
      const again = await get("/viewer/lib/rle.js", { "If-None-Match": res.headers["etag"]! });
      assert.equal(again.status, 304);
    });

    it("should answer a file's ETag with 304 and no body", async () => {
      const first = await get("/viewer/viewer.js");
      const again = await get("/viewer/viewer.js", { "If-None-Match": first.headers["etag"]! });
      assert.equal(again.status, 304);
      assert.equal(again.body.byteLength, 0);
      assert.equal(again.headers["etag"], first.headers["etag"]);
    });

    it("should redirect / (302) and /viewer (301) to /viewer/, and answer 404 NOT_FOUND for a file the viewer does not have", async () => {
      for (const [path, status] of [["/", 302], ["/viewer", 301]] as const) {
        const res = await get(path);
        assert.equal(res.status, status, path);
        assert.equal(res.headers["location"], "/viewer/", path);
        assert.equal(res.headers["content-security-policy"], viewerCsp(apigw), path);
      }
      for (const path of ["/viewer/package.json", "/viewer/../app/lambda.ts", "/viewer/vendor/"]) {
        const res = await get(path);
        assert.equal(res.status, 404, path);
        assert.equal(JSON.parse(res.body.toString("utf8")).code, "NOT_FOUND", path);
      }
    });

    it("should tell the viewer to stream from VIEWER_STREAM_URL over API Gateway's protocol (GET /viewer/config.json)", async () => {
      const res = await get("/viewer/config.json");
      assert.equal(res.status, 200);
      assert.equal(res.headers["content-type"], "application/json; charset=utf-8");
      assert.equal(res.headers["cache-control"], "no-store");
      assert.deepEqual(JSON.parse(res.body.toString("utf8")), { stream: { protocol: "apigw", url: VIEWER_STREAM_URL } });
    });

    it("should configure no stream and keep the strict same-origin CSP when VIEWER_STREAM_URL is unset", async () => {
      const { VIEWER_STREAM_URL: _unset, ...rest } = environment;
      const plain = createLambdaHandler(rest);
      try {
        const config = await get("/viewer/config.json", {}, plain);
        assert.deepEqual(JSON.parse(config.body.toString("utf8")), { stream: null });
        assert.equal((await get("/viewer/", {}, plain)).headers["content-security-policy"], VIEWER_CSP);
        assert.match(VIEWER_CSP, /; connect-src 'self'; /);
        // Apollo still answers the rest (and has started: dispose() stops only a started server).
        const graphql = (await plain(httpApiEvent({ query: "{ viewer { role } }" }, { "x-api-key": apiKey }), {} as Context, () => {})) as { body: string };
        assert.equal(JSON.parse(graphql.body).data.viewer.role, "ANNOTATOR");
      } finally {
        await plain.dispose();
      }
    });

    it("should refuse to start, naming VIEWER_STREAM_URL, when it is not a ws:// or wss:// URL", () => {
      for (const url of ["https://abc123.execute-api.us-east-1.amazonaws.com/live", "not a url"]) {
        assert.throws(() => createLambdaHandler({ ...environment, VIEWER_STREAM_URL: url }), (e: unknown) => e instanceof ConfigError && /VIEWER_STREAM_URL/.test(e.message));
      }
    });
  });
});
