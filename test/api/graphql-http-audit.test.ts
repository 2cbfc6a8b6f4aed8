import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { serverAudits } from "graphql-http";
import { startApiHarness, type ApiHarness } from "./support/api-harness.ts";

describe("GraphQL over HTTP compliance", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness()));
  after(async () => api.close());

  it("should pass every graphql-http server audit with zero errors when audited over HTTP", async () => {
    const audits = serverAudits({ url: () => api.server.graphqlUrl, fetchFn: fetch });
    const results: { name: string; status: string; reason: string }[] = [];
    for (const audit of audits) {
      const r = await audit.fn();
      results.push({ name: audit.name, status: r.status, reason: "reason" in r ? r.reason : "" });
    }
    const errors = results.filter((r) => r.status === "error");
    const tally = Object.fromEntries(["ok", "warn", "notice", "error"].map((s) => [s, results.filter((r) => r.status === s).length]));
    console.log(`graphql-http audits: ${JSON.stringify(tally)}`);
    assert.deepEqual(errors.map((e) => `${e.name}: ${e.reason}`), []);
    assert.ok(tally.ok! > 40, `only ${tally.ok} audits passed`);
  });
});
