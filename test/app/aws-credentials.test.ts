// Static AWS credentials from the environment: in Lambda they are temporary and need their session token.
import { describe, it } from "node:test";
import assert from "node:assert/strict";
import { staticAwsCredentials } from "../../app/aws-credentials.ts";
import { parseOptionalConfig } from "../../app/config/parse-config.ts";
import { createObjectStore } from "../../app/object-store-factory.ts";

describe("static AWS credentials", () => {
  it("should carry the session token when the environment has one, as Lambda's does", () => {
    const env = parseOptionalConfig({ AWS_ACCESS_KEY_ID: "ASIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "tok" }, ["AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN"]);
    assert.deepEqual(staticAwsCredentials(env), { accessKeyId: "ASIAEXAMPLE", secretAccessKey: "s", sessionToken: "tok" });
    assert.deepEqual(staticAwsCredentials({ AWS_ACCESS_KEY_ID: "test", AWS_SECRET_ACCESS_KEY: "test" }), { accessKeyId: "test", secretAccessKey: "test" });
  });

  it("should leave the SDK's default chain in charge when no key pair is set", () => {
    assert.equal(staticAwsCredentials({}), undefined);
    assert.equal(staticAwsCredentials({ AWS_ACCESS_KEY_ID: "k", AWS_SESSION_TOKEN: "tok" }), undefined);
  });

  it("should sign presigned S3 upload URLs with the session token when temporary credentials are configured", async () => {
    // Presigning is computed locally: no request leaves the process.
    const store = createObjectStore({
      OBJECT_STORE: "s3", LOCAL_STORE_DIR: "unused", AWS_REGION: "eu-west-1", S3_BUCKET: "coinseg-test", S3_ENDPOINT: "http://127.0.0.1:9",
      AWS_ACCESS_KEY_ID: "ASIAEXAMPLE", AWS_SECRET_ACCESS_KEY: "s", AWS_SESSION_TOKEN: "tok/en",
    }, () => "");
    const { url } = await store.createUploadUrl("orgs/o/uploads/u", { ttlSeconds: 60, contentType: "image/png" });
    assert.match(url, /[?&]X-Amz-Security-Token=tok%2Fen(&|$)/);
    assert.match(url, /X-Amz-Credential=ASIAEXAMPLE%2F/);
  });
});
