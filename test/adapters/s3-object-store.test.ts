import { after, before, describe } from "node:test";
import assert from "node:assert/strict";
import { randomBytes } from "node:crypto";
import { CreateBucketCommand } from "@aws-sdk/client-s3";
import { S3ObjectStore } from "../../adapters/storage/s3-object-store.ts";
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
});
