// The API Lambda's cold-start bootstrap: SigV4 signing, Secrets Manager reads (against moto), DATABASE_URL.
import assert from "node:assert/strict";
import { randomUUID } from "node:crypto";
import { describe, test } from "node:test";
import { databaseUrlFromSecret } from "../../infra/lib/runtime/database-url.ts";
import { loadSecretsIntoEnv } from "../../infra/lib/runtime/lambda-secrets-bootstrap.ts";
import { callSecretsManager, readSecretString } from "../../infra/lib/runtime/secrets-manager-reader.ts";
import { signRequest, toAmzDate } from "../../infra/lib/runtime/sigv4.ts";

describe("SigV4", () => {
  test("should reproduce AWS's published example signature when signing IAM ListUsers", () => {
    // The worked example of AWS's Signature Version 4 documentation (GET iam ListUsers, 2015-08-30).
    const headers = signRequest({
      method: "GET", path: "/", query: { Action: "ListUsers", Version: "2010-05-08" }, body: "", service: "iam", region: "us-east-1",
      amzDate: "20150830T123600Z", headers: { Host: "iam.amazonaws.com", "Content-Type": "application/x-www-form-urlencoded; charset=utf-8" },
    }, { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" });
    assert.equal(headers["authorization"], "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/iam/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7");
  });

  test("should sign the session token when the credentials carry one", () => {
    const headers = signRequest({ method: "POST", path: "/", body: "{}", service: "secretsmanager", region: "eu-west-1", amzDate: toAmzDate(new Date(0)), headers: { host: "x" } },
      { accessKeyId: "a", secretAccessKey: "b", sessionToken: "t" });
    assert.equal(headers["x-amz-security-token"], "t");
    assert.match(headers["authorization"]!, /SignedHeaders=host;x-amz-date;x-amz-security-token,/);
    assert.equal(toAmzDate(new Date(0)), "19700101T000000Z");
  });
});

describe("DATABASE_URL from the RDS secret", () => {
  test("should point at the proxy with TLS required when given a host override", () => {
    const secret = JSON.stringify({ username: "coinseg", password: "p-w_d", host: "cluster.local", port: 5432, dbname: "coinseg", engine: "postgres" });
    assert.equal(databaseUrlFromSecret(secret, "proxy.local"), "postgresql://coinseg:p-w_d@proxy.local:5432/coinseg?sslmode=require");
    assert.equal(databaseUrlFromSecret(secret), "postgresql://coinseg:p-w_d@cluster.local:5432/coinseg?sslmode=require");
  });

  test("should percent-encode credentials when they contain URL characters", () => {
    const secret = JSON.stringify({ username: "u@x", password: "a/b:c", host: "h", port: "5432", dbname: "d" });
    assert.equal(databaseUrlFromSecret(secret), "postgresql://u%40x:a%2Fb%3Ac@h:5432/d?sslmode=require");
  });

  test("should reject a secret without a password", () => {
    assert.throws(() => databaseUrlFromSecret(JSON.stringify({ username: "u", host: "h", port: 1, dbname: "d" })), /password/);
  });
});

describe("loadSecretsIntoEnv", () => {
  test("should set DATABASE_URL, JWT_SECRET and DICOM_UID_SECRET from the named secrets when they are unset", async () => {
    const env: Record<string, string | undefined> = { DATABASE_SECRET_ARN: "arn:db", DATABASE_PROXY_HOST: "proxy", JWT_SECRET_ARN: "arn:jwt", DICOM_UID_SECRET_ARN: "arn:dicom" };
    const values: Record<string, string> = { "arn:db": JSON.stringify({ username: "u", password: "p", host: "h", port: 5432, dbname: "d" }), "arn:jwt": "j".repeat(64), "arn:dicom": "u".repeat(64) };
    const read = async (id: string) => values[id] ?? assert.fail(`unexpected secret ${id}`);
    await loadSecretsIntoEnv(env, read);
    assert.equal(env["DATABASE_URL"], "postgresql://u:p@proxy:5432/d?sslmode=require");
    assert.equal(env["JWT_SECRET"], "j".repeat(64));
    assert.equal(env["DICOM_UID_SECRET"], "u".repeat(64));
  });

  test("should read only the secrets whose ARN variables are set when a function names fewer", async () => {
    const env: Record<string, string | undefined> = { JWT_SECRET_ARN: "arn:jwt" };
    const reads: string[] = [];
    await loadSecretsIntoEnv(env, async (id) => {
      reads.push(id);
      return "j".repeat(64);
    });
    assert.deepEqual(reads, ["arn:jwt"]);
    assert.equal(env["DICOM_UID_SECRET"], undefined);
    assert.equal(env["DATABASE_URL"], undefined);
  });

  test("should leave values that are already set untouched", async () => {
    const env: Record<string, string | undefined> = {
      DATABASE_URL: "postgresql://keep", DATABASE_SECRET_ARN: "arn:db", JWT_SECRET: "keep", JWT_SECRET_ARN: "arn:jwt", DICOM_UID_SECRET: "keep-dicom", DICOM_UID_SECRET_ARN: "arn:dicom",
    };
    await loadSecretsIntoEnv(env, async () => assert.fail("must not read"));
    assert.equal(env["DATABASE_URL"], "postgresql://keep");
    assert.equal(env["JWT_SECRET"], "keep");
    assert.equal(env["DICOM_UID_SECRET"], "keep-dicom");
  });

  test("should read a secret created in Secrets Manager when talking to an emulator (moto)", async () => {
    const endpoint = process.env["MOTO_ENDPOINT_URL"];
    assert.ok(endpoint, "MOTO_ENDPOINT_URL is not set: start moto (python3 -m moto.server -p 4566 -H 127.0.0.1) and export MOTO_ENDPOINT_URL=http://127.0.0.1:4566, as .ci/run does");
    const options = { region: "us-east-1", endpoint, credentials: { accessKeyId: "test", secretAccessKey: "test" } };
    const name = `coinseg-test-${randomUUID()}`;
    const created = await callSecretsManager(options, "CreateSecret", { Name: name, SecretString: "s3cr3t-value" });
    assert.equal(await readSecretString(options, String(created["ARN"])), "s3cr3t-value");
    await assert.rejects(readSecretString(options, `${name}-missing`), /ResourceNotFoundException/);
    await callSecretsManager(options, "DeleteSecret", { SecretId: name, ForceDeleteWithoutRecovery: true });
  });
});
