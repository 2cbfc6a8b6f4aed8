import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand, GetObjectTaggingCommand } from "@aws-sdk/client-s3";
import { S3ObjectStore, UPLOAD_OBJECT_TAG } from "../../adapters/storage/s3-object-store.ts";
import { objectStoreContract } from "./support/object-store-contract.ts";

// moto's S3 (started by .ci/run): python3 -m moto.server -p 4566 -H 127.0.0.1
const endpoint = process.env.MOTO_ENDPOINT_URL;

describe("S3 object store on moto", () => {
  let store: S3ObjectStore;
  const bucket = `coinseg-test-${randomBytes(4).toString("hex")}`;
  before(async () => {
    assert.ok(endpoint, "MOTO_ENDPOINT_URL is not set: start moto (python3 -m moto.server -p 4566 -H 127.0.0.1) and export MOTO_ENDPOINT_URL=http://127.0.0.1:4566, as .ci/run does");
    store = new S3ObjectStore({ bucket, region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } });
    await store.client.send(new CreateBucketCommand({ Bucket: bucket }));
  });
  after(() => store?.client.destroy());

  objectStoreContract(() => store, () => "t");

  it("should tag an object put through the upload URL with the upload tag, so the lifecycle rule expires it", async () => {
    const key = "t/uploads/tagged";
    const target = await store.createUploadUrl(key, { ttlSeconds: 60, contentType: "application/dicom" });
    // Signed, so S3 refuses the PUT of a client that leaves the header out (moto does not check signatures).
    assert.match(new URL(target.url).searchParams.get("X-Amz-SignedHeaders") ?? "", /(^|;)x-amz-tagging(;|$)/);
    assert.equal(new URL(target.url).searchParams.get("x-amz-tagging"), null, "S3 ignores tagging hoisted into the query");
    const response = await fetch(target.url, { method: "PUT", headers: target.headers, body: Buffer.from([1, 2, 3]) });
    assert.equal(response.status, 200, await response.text());
    const { TagSet } = await store.client.send(new GetObjectTaggingCommand({ Bucket: bucket, Key: key }));
    assert.deepEqual(TagSet, [{ Key: UPLOAD_OBJECT_TAG.key, Value: UPLOAD_OBJECT_TAG.value }]);
  });
});
