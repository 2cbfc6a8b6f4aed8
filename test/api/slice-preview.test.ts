// GET /slices/:id/preview.png and the viewer's static files, against real Postgres.
import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { PNG } from "pngjs";
import { startApiHarness, type ApiHarness } from "./support/api-harness.ts";
import { studyWithSlice } from "./support/study-flow.ts";
import { parsePreviewWindow } from "../../app/api/slice-preview-route.ts";
import { VIEWER_CSP } from "../../app/api/viewer-routes.ts";

describe("slice preview and viewer routes", () => {
  let api: ApiHarness;
  let sliceId: string;
  let studyId: string;
  before(async () => {
    api = await startApiHarness();
    ({ sliceId, studyId } = await studyWithSlice(api, api.seed.adminA.key)); // an 8×6 PNG slice, raw values 0…47
  });
  after(async () => api.close());

  const preview = (id: string, key: string | null, query = "") =>
    fetch(`${api.server.baseUrl}/slices/${id}/preview.png${query}`, { headers: key ? { "x-api-key": key } : {} });

  it("should render the slice in the requested window as a PNG when the caller's organisation owns it", async () => {
    const res = await preview(sliceId, api.seed.viewerA.key, "?window=0,47");
    assert.equal(res.status, 200);
    assert.equal(res.headers.get("content-type"), "image/png");
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    assert.deepEqual([png.width, png.height], [8, 6]);
    // Pixel p holds raw value p: in the window [0, 47] it is round(p · 255 / 47), grey.
    for (const p of [0, 1, 20, 47]) {
      assert.deepEqual([...png.data.subarray(4 * p, 4 * p + 3)], Array(3).fill(Math.round((p * 255) / 47)), `pixel ${p}`);
    }
  });

  it("should use the abdominal window [-160, 240] when no window is given, at the slice's previewPath", async () => {
    const q = await api.gql(api.seed.viewerA.key, "query($id: ID!) { study(id: $id) { slices { edges { node { id previewPath } } } } }", { id: studyId });
    const node = q.body.data!.study.slices.edges[0].node;
    assert.equal(node.previewPath, `/slices/${sliceId}/preview.png`);
    const res = await fetch(`${api.server.baseUrl}${node.previewPath}`, { headers: { "x-api-key": api.seed.viewerA.key } });
    const png = PNG.sync.read(Buffer.from(await res.arrayBuffer()));
    assert.equal(png.data[4 * 40], Math.round(((40 + 160) * 255) / 400));
  });

  it("should answer 401 UNAUTHENTICATED without credentials or with a wrong key", async () => {
    for (const key of [null, "cs_00000000_wrong"]) {
      const res = await preview(sliceId, key);
      assert.equal(res.status, 401);
      assert.equal(((await res.json()) as { code: string }).code, "UNAUTHENTICATED");
    }
  });

  it("should answer 404 NOT_FOUND, exactly as for an unknown id, when another organisation asks", async () => {
    const foreign = await preview(sliceId, api.seed.adminB.key);
    const unknown = await preview("00000000-0000-4000-8000-000000000000", api.seed.adminB.key);
    const malformed = await preview("not-a-uuid", api.seed.adminB.key);
    assert.deepEqual([foreign.status, unknown.status, malformed.status], [404, 404, 404]);
    const bodies = await Promise.all([foreign.json(), unknown.json(), malformed.json()]);
    assert.deepEqual(bodies[0], { code: "NOT_FOUND", message: "slice not found" });
    assert.deepEqual(bodies[1], bodies[0]);
    assert.deepEqual(bodies[2], bodies[0]);
  });

  it("should answer 400 BAD_USER_INPUT for a malformed or empty window", async () => {
    for (const w of ["5,1", "abc", "0,0", "1,2,3", "-99999,0"]) {
      const res = await preview(sliceId, api.seed.viewerA.key, `?window=${encodeURIComponent(w)}`);
      assert.equal(res.status, 400, w);
      assert.equal(((await res.json()) as { code: string }).code, "BAD_USER_INPUT");
    }
    assert.deepEqual(parsePreviewWindow(" -160 , 240.5 "), [-160, 240.5]);
    assert.equal(parsePreviewWindow(["1,2"]), null);
  });

  it("should serve the viewer with a same-origin content security policy, its script, and graphql-ws's browser build", async () => {
    const root = await fetch(`${api.server.baseUrl}/`, { redirect: "manual" });
    assert.equal(root.status, 302);
    assert.equal(root.headers.get("location"), "/viewer/");
    const page = await fetch(`${api.server.baseUrl}/viewer/`);
    assert.equal(page.status, 200);
    assert.equal(page.headers.get("content-security-policy"), VIEWER_CSP);
    assert.match(await page.text(), /<script type="module" src="viewer.js">/);
    const script = await fetch(`${api.server.baseUrl}/viewer/viewer.js`);
    assert.match(script.headers.get("content-type") ?? "", /javascript/);
    const vendor = await fetch(`${api.server.baseUrl}/viewer/vendor/graphql-ws.js`);
    assert.equal(vendor.status, 200);
    assert.match(await vendor.text(), /graphqlWs/);
    const config = await fetch(`${api.server.baseUrl}/viewer/config.json`);
    assert.equal(config.headers.get("content-security-policy"), VIEWER_CSP);
    assert.deepEqual(await config.json(), { stream: { protocol: "graphql-ws", url: null } }, "graphql-ws on this origin's /graphql");
    const bare = await fetch(`${api.server.baseUrl}/viewer`, { redirect: "manual" });
    assert.equal(bare.status, 301);
    assert.equal(bare.headers.get("location"), "/viewer/");
  });
});
