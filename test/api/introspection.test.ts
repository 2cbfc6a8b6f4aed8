// GRAPHQL_INTROSPECTION=false: schema introspection is refused with a code; ordinary queries still work.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { parseConfig } from "../../app/config/parse-config.ts";
import { startApiHarness, codes, type ApiHarness } from "./support/api-harness.ts";

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
});
