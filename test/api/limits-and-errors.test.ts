import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { buildSchema, type GraphQLEnumType } from "graphql";
import { loadTypeDefs } from "../../app/api/type-defs.ts";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";

describe("operation limits and error codes", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness({ maxDepth: 8, maxCost: 5000 })));
  after(async () => api.close());

  it("should answer QUERY_TOO_DEEP when an operation nests deeper than the limit", async () => {
    const q = "{ studies(first: 1) { edges { node { segmentationJobs { study { segmentationJobs { study { series { id } } } } } } } } }";
    const res = await api.gql(api.seed.viewerA.key, q);
    assert.deepEqual(codes(res), ["QUERY_TOO_DEEP"]);
  });

  it("should answer QUERY_TOO_COSTLY when list sizes multiply past the limit", async () => {
    const q = "{ studies(first: 100) { edges { node { slices(first: 100) { edges { node { id } } } } } } }";
    const res = await api.gql(api.seed.viewerA.key, q);
    assert.deepEqual(codes(res), ["QUERY_TOO_COSTLY"]);
    assert.ok(res.body.errors![0]!.extensions!.cost > 5000);
  });

  it("should count variables when estimating cost", async () => {
    const q = "query($n: Int!) { studies(first: $n) { edges { node { slices(first: $n) { edges { node { id } } } } } } }";
    assert.deepEqual(codes(await api.gql(api.seed.viewerA.key, q, { n: 100 })), ["QUERY_TOO_COSTLY"]);
    assert.equal((await api.gql(api.seed.viewerA.key, q, { n: 5 })).body.errors, undefined);
  });

  it("should answer GRAPHQL_VALIDATION_FAILED when a field does not exist", async () => {
    assert.deepEqual(codes(await api.gql(api.seed.viewerA.key, "{ nope }")), ["GRAPHQL_VALIDATION_FAILED"]);
  });

  it("should answer BAD_USER_INPUT when a page size is out of range", async () => {
    assert.deepEqual(codes(await api.gql(api.seed.viewerA.key, "{ studies(first: 0) { edges { cursor } } }")), ["BAD_USER_INPUT"]);
  });

  it("should answer BAD_USER_INPUT when a cursor is malformed", async () => {
    const res = await api.gql(api.seed.viewerA.key, '{ studies(first: 1, after: "garbage") { edges { cursor } } }');
    assert.deepEqual(codes(res), ["BAD_USER_INPUT"]);
  });

  it("should accept an automatic persisted query once the server has seen its text", async () => {
    const query = "{ errorCodes }";
    const hash = createHash("sha256").update(query).digest("hex");
    const extensions = { persistedQuery: { version: 1, sha256Hash: hash } };
    const post = (body: object) => fetch(api.server.graphqlUrl, { method: "POST", headers: { "content-type": "application/json" }, body: JSON.stringify(body) }).then((r) => r.json() as Promise<{ data?: unknown; errors?: { extensions?: { code?: string } }[] }>);
    assert.deepEqual((await post({ extensions })).errors?.map((e) => e.extensions?.code), ["PERSISTED_QUERY_NOT_FOUND"]);
    assert.equal((await post({ query, extensions })).errors, undefined);
    assert.equal((await post({ extensions })).errors, undefined);
  });

  it("should mirror the error-code catalogue exactly when comparing the schema enum", () => {
    const schema = buildSchema(loadTypeDefs().join("\n"));
    const values = (schema.getType("ErrorCode") as GraphQLEnumType).getValues().map((v) => v.name).sort();
    assert.deepEqual(values, Object.values(ERROR_CODES).sort());
  });

  it("should list the catalogue when errorCodes is queried", async () => {
    const res = await api.gql(null, "{ errorCodes }");
    assert.deepEqual([...res.body.data!.errorCodes].sort(), Object.values(ERROR_CODES).sort());
  });
});
