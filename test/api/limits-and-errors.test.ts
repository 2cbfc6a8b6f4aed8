import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createHash } from "node:crypto";
import { buildSchema, type GraphQLEnumType } from "graphql";
import { loadTypeDefs } from "../../app/api/type-defs.ts";
import { ERROR_CODES } from "../../core/errors/error-codes.ts";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { wsOperation } from "./support/ws-operation.ts";

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

  describe("over WebSocket (graphql-ws)", () => {
    const ws = (query: string, variables?: Record<string, unknown>, operationName?: string) =>
      wsOperation(api.server.graphqlUrl, { apiKey: api.seed.viewerA.key }, { query, ...(variables ? { variables } : {}), ...(operationName ? { operationName } : {}) });
    const SUB_DEEP = "subscription($j: ID!) { segmentationJobUpdated(jobId: $j) { job { study { segmentationJobs { study { segmentationJobs { study { series { id } } } } } } } } }";

    it("should answer QUERY_TOO_DEEP when a query over WebSocket nests deeper than the limit", async () => {
      const outcome = await ws("{ studies(first: 1) { edges { node { segmentationJobs { study { segmentationJobs { study { series { id } } } } } } } } }");
      assert.deepEqual(outcome, { codes: ["QUERY_TOO_DEEP"], messages: ["operation depth 9 exceeds the limit of 8"], data: [] });
    });

    it("should answer QUERY_TOO_DEEP when a subscription nests deeper than the limit", async () => {
      const outcome = await ws(SUB_DEEP, { j: "00000000-0000-4000-8000-000000000000" });
      assert.deepEqual(outcome.codes, ["QUERY_TOO_DEEP"]);
    });

    it("should answer QUERY_TOO_COSTLY with the cost, and keep the connection, when variables over WebSocket multiply past the limit", async () => {
      const q = "query($n: Int!) { studies(first: $n) { edges { node { slices(first: $n) { edges { node { id } } } } } } }";
      const outcome = await ws(q, { n: 100 });
      assert.deepEqual(outcome.codes, ["QUERY_TOO_COSTLY"]);
      assert.equal(outcome.closeCode, undefined);
      assert.match(outcome.messages[0]!, /^operation cost \d+ exceeds the limit of 5000$/);
      assert.deepEqual(await ws(q, { n: 5 }), { codes: [], messages: [], data: [{ studies: { edges: [] } }] });
    });

    it("should answer GRAPHQL_PARSE_FAILED instead of closing the socket when the document does not parse", async () => {
      const outcome = await ws("{ studies(first: 1) {");
      assert.equal(outcome.closeCode, undefined);
      assert.deepEqual(outcome.codes, ["GRAPHQL_PARSE_FAILED"]);
    });

    it("should answer GRAPHQL_VALIDATION_FAILED when a field over WebSocket does not exist", async () => {
      assert.deepEqual((await ws("{ nope }")).codes, ["GRAPHQL_VALIDATION_FAILED"]);
    });

    it("should answer OPERATION_RESOLUTION_FAILURE when the operation name is not in the document", async () => {
      assert.deepEqual((await ws("query A { errorCodes }", undefined, "B")).codes, ["OPERATION_RESOLUTION_FAILURE"]);
    });

    it("should answer BAD_USER_INPUT when a variable over WebSocket has the wrong type", async () => {
      assert.deepEqual((await ws("query($n: Int!) { studies(first: $n) { edges { cursor } } }", { n: "ten" })).codes, ["BAD_USER_INPUT"]);
    });
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
