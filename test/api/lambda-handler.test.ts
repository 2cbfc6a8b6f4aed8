import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, S3Client } from "@aws-sdk/client-s3";
import type { Context } from "aws-lambda";
import { createLambdaHandler } from "../../app/lambda/create-lambda-handler.ts";
import { PrismaIdentityRepository } from "../../adapters/prisma/prisma-identity-repository.ts";
import { AuthService } from "../../core/services/auth.service.ts";
import { createMigratedDatabase, type MigratedDatabase } from "../adapters/support/migrated-database.ts";
import { httpApiEvent } from "./support/http-api-event.ts";

const motoUrl = process.env.MOTO_ENDPOINT_URL;

describe("Lambda handler (API Gateway v2)", () => {
  let db: MigratedDatabase;
  let handler: ReturnType<typeof createLambdaHandler>;
  let apiKey: string;
  const bucket = `coinseg-lambda-${randomBytes(4).toString("hex")}`;

  before(async () => {
    assert.ok(motoUrl, "MOTO_ENDPOINT_URL is not set: start moto (python3 -m moto.server -p 4566 -H 127.0.0.1) as .ci/run does");
    const s3 = new S3Client({ region: "us-east-1", endpoint: motoUrl, forcePathStyle: true, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await s3.send(new CreateBucketCommand({ Bucket: bucket }));
    s3.destroy();
    db = await createMigratedDatabase();
    const identities = new PrismaIdentityRepository(db.prisma);
    const org = await identities.createOrganization({ slug: "l", name: "L" });
    const { userId } = await identities.upsertMember({ organizationId: org.id, email: "l@l", name: "l", role: "ANNOTATOR" });
    apiKey = (await new AuthService(identities, { verify: async () => null }).issueApiKey(org.id, userId, "lambda")).key;
    handler = createLambdaHandler({
      DATABASE_URL: db.url, JWT_SECRET: "j".repeat(40), LOG_LEVEL: "silent", OBJECT_STORE: "s3", S3_BUCKET: bucket, S3_ENDPOINT: motoUrl,
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

  it("should answer UNAUTHENTICATED when invoked without credentials", async () => {
    const res = await invoke({ query: "{ viewer { role } }" });
    assert.deepEqual(res.json.errors?.map((e) => e.extensions?.code), ["UNAUTHENTICATED"]);
  });
});
