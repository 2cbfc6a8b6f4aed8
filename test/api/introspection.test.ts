// GRAPHQL_INTROSPECTION=false: schema introspection is refused with a code, over HTTP and over
// WebSocket (graphql-ws on the same server); ordinary queries still work.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../app/config/parse-config.ts";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";
import { wsOperation } from "./support/ws-operation.ts";

describe("introspection switched off", () => {
  let api: ApiHarness;
  before(async () => {
    const { GRAPHQL_INTROSPECTION } = parseConfig({ GRAPHQL_INTROSPECTION: "false" }, ["GRAPHQL_INTROSPECTION"]);
    assert.equal(GRAPHQL_INTROSPECTION, false);
    api = await startApiHarness({ introspection: GRAPHQL_INTROSPECTION });
  });
  after(async () => api.close());

  it("should refuse __schema with GRAPHQL_VALIDATION_FAILED and no data when GRAPHQL_INTROSPECTION is false", async () => {
    const res = await api.gql(api.seed.viewerA.key, "{ __schema { types { name } } }");
    assert.deepEqual(codes(res), ["GRAPHQL_VALIDATION_FAILED"]);
    assert.match(res.body.errors![0]!.message, /introspection is not allowed/i);
    assert.equal(res.body.data, undefined);
  });

  it("should refuse __type with GRAPHQL_VALIDATION_FAILED when GRAPHQL_INTROSPECTION is false", async () => {
    const res = await api.gql(api.seed.viewerA.key, '{ __type(name: "Study") { fields { name } } }');
    assert.deepEqual(codes(res), ["GRAPHQL_VALIDATION_FAILED"]);
  });

  it("should still answer ordinary queries and __typename when GRAPHQL_INTROSPECTION is false", async () => {
    const res = await api.gql(api.seed.viewerA.key, "{ __typename studies(first: 1) { edges { cursor } } }");
    assert.equal(res.body.errors, undefined, JSON.stringify(res.body.errors));
    assert.equal(res.body.data!.__typename, "Query");
  });

  it("should refuse __schema over WebSocket with GRAPHQL_VALIDATION_FAILED and no data when GRAPHQL_INTROSPECTION is false", async () => {
    const outcome = await wsOperation(api.server.graphqlUrl, { apiKey: api.seed.viewerA.key }, { query: "{ __schema { types { name } } }" });
    // graphql's rule reports every field of an introspection type: __schema, and its `types`.
    assert.deepEqual(outcome.codes, ["GRAPHQL_VALIDATION_FAILED", "GRAPHQL_VALIDATION_FAILED"]);
    assert.deepEqual(outcome.messages, [
      'GraphQL introspection has been disabled, but the requested query contained the field "__schema".',
      'GraphQL introspection has been disabled, but the requested query contained the field "types".',
    ]);
    assert.deepEqual(outcome.data, []);
    assert.equal(outcome.closeCode, undefined, "a refused operation leaves the connection open");
  });

  it("should refuse __type spread through a fragment over WebSocket when GRAPHQL_INTROSPECTION is false", async () => {
    const query = 'query { ...F } fragment F on Query { __type(name: "Study") { name } }';
    const outcome = await wsOperation(api.server.graphqlUrl, { apiKey: api.seed.viewerA.key }, { query });
    assert.deepEqual(outcome.codes, ["GRAPHQL_VALIDATION_FAILED"]);
    assert.match(outcome.messages[0]!, /introspection has been disabled/i);
  });

  it("should still answer ordinary queries and __typename over WebSocket when GRAPHQL_INTROSPECTION is false", async () => {
    const outcome = await wsOperation(api.server.graphqlUrl, { apiKey: api.seed.viewerA.key }, { query: "{ __typename studies(first: 1) { edges { cursor } } }" });
    assert.deepEqual(outcome.codes, []);
    assert.deepEqual(outcome.data, [{ __typename: "Query", studies: { edges: [] } }]);
  });
});

describe("introspection switched on", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness({ introspection: true })));
  after(async () => api.close());

  it("should answer __schema over HTTP and over WebSocket when GRAPHQL_INTROSPECTION is true", async () => {
    const http = await api.gql(api.seed.viewerA.key, "{ __schema { queryType { name } } }");
    assert.equal(http.body.errors, undefined, JSON.stringify(http.body.errors));
    const ws = await wsOperation(api.server.graphqlUrl, { apiKey: api.seed.viewerA.key }, { query: "{ __schema { queryType { name } } }" });
    assert.deepEqual(ws.codes, []);
    assert.deepEqual(ws.data, [{ __schema: { queryType: { name: "Query" } } }]);
  });
});
