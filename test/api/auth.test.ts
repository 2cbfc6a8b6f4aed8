import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { SignJWT } from "jose";
import { startApiHarness, codes, TEST_JWT, type ApiHarness } from "./support/api-harness.ts";

describe("authentication and roles", () => {
  let api: ApiHarness;
  before(async () => (api = await startApiHarness()));
  after(async () => api.close());

  it("should answer UNAUTHENTICATED when a request has no credentials", async () => {
    const res = await api.gql(null, "{ studies(first: 1) { edges { node { id } } } }");
    assert.deepEqual(codes(res), ["UNAUTHENTICATED"]);
  });

  it("should answer 401 UNAUTHENTICATED when the API key is unknown", async () => {
    const res = await api.gql("cs_abcdefgh_AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA", "{ viewer { role } }");
    assert.equal(res.status, 401);
    assert.deepEqual(codes(res), ["UNAUTHENTICATED"]);
  });

  it("should identify the caller when a valid API key is sent", async () => {
    const res = await api.gql(api.seed.viewerA.key, "{ viewer { userId organizationId role } }");
    assert.deepEqual(res.body.data?.viewer, { userId: api.seed.viewerA.userId, organizationId: api.seed.orgA, role: "VIEWER" });
  });

  it("should store only a sha256 of each API key when keys are issued", async () => {
    const rows = await api.db.prisma.apiKey.findMany();
    assert.ok(rows.length >= 4);
    for (const row of rows) assert.match(row.secretSha256, /^[0-9a-f]{64}$/);
    const all = JSON.stringify(rows);
    assert.equal(all.includes(api.seed.adminA.key), false);
  });

  it("should accept a bearer JWT when it is signed with the server's secret", async () => {
    const token = await api.tokens.sign(api.seed.annotatorA.userId, api.seed.orgA);
    const res = await api.gql(null, "{ viewer { role } }", {}, { authorization: `Bearer ${token}` });
    assert.equal(res.body.data?.viewer.role, "ANNOTATOR");
  });

  it("should answer 401 when a JWT is expired, foreign-signed, or names an organisation the user is not in", async () => {
    const key = new TextEncoder().encode(TEST_JWT.secret);
    const expired = await new SignJWT({ org: api.seed.orgA }).setProtectedHeader({ alg: "HS256" }).setSubject(api.seed.adminA.userId)
      .setIssuer(TEST_JWT.issuer).setAudience(TEST_JWT.audience).setExpirationTime(Math.floor(Date.now() / 1000) - 60).sign(key);
    const foreign = await new SignJWT({ org: api.seed.orgA }).setProtectedHeader({ alg: "HS256" }).setSubject(api.seed.adminA.userId)
      .setIssuer(TEST_JWT.issuer).setAudience(TEST_JWT.audience).setExpirationTime("1h").sign(new TextEncoder().encode("z".repeat(40)));
    const wrongOrg = await api.tokens.sign(api.seed.adminA.userId, api.seed.orgB);
    for (const token of [expired, foreign, wrongOrg]) {
      const res = await api.gql(null, "{ viewer { role } }", {}, { authorization: `Bearer ${token}` });
      assert.equal(res.status, 401);
      assert.deepEqual(codes(res), ["UNAUTHENTICATED"]);
    }
  });

  it("should answer FORBIDDEN when a VIEWER tries to create a study", async () => {
    const res = await api.gql(api.seed.viewerA.key, 'mutation { createStudy(input: { title: "x" }) { study { id } } }');
    assert.deepEqual(codes(res), ["FORBIDDEN"]);
    assert.equal(await api.db.prisma.study.count(), 0);
  });

  it("should answer FORBIDDEN when an ANNOTATOR tries to delete a study", async () => {
    const created = await api.gql(api.seed.annotatorA.key, 'mutation { createStudy(input: { title: "x" }) { study { id } } }');
    const id = created.body.data!.createStudy.study.id;
    const res = await api.gql(api.seed.annotatorA.key, "mutation($id: ID!) { deleteStudy(input: { id: $id }) { deletedStudyId } }", { id });
    assert.deepEqual(codes(res), ["FORBIDDEN"]);
    const ok = await api.gql(api.seed.adminA.key, "mutation($id: ID!) { deleteStudy(input: { id: $id }) { deletedStudyId } }", { id });
    assert.equal(ok.body.data?.deleteStudy.deletedStudyId, id);
  });

  it("should answer 401 when a revoked API key is used", async () => {
    const { userId } = await api.services.identities.upsertMember({ organizationId: api.seed.orgA, email: "temp@a", name: "t", role: "VIEWER" });
    const { key } = await api.services.auth.issueApiKey(api.seed.orgA, userId, "temp");
    assert.equal((await api.gql(key, "{ viewer { role } }")).status, 200);
    await api.services.identities.revokeApiKeysNamed(api.seed.orgA, "temp");
    assert.equal((await api.gql(key, "{ viewer { role } }")).status, 401);
  });
});
