import { after, before, describe, it } from "node:test";
import assert from "node:assert/strict";
import { createServer, type Server } from "node:http";
import type { AddressInfo } from "node:net";
import { mkdtemp, rm } from "node:fs/promises";
import { tmpdir } from "node:os";
import path from "node:path";
import { LocalObjectStore } from "../../adapters/storage/local-object-store.ts";
import { objectStoreContract } from "./support/object-store-contract.ts";

describe("local object store", () => {
  let dir: string;
  let store: LocalObjectStore;
  let server: Server;
  let baseUrl = "";
  let now = Date.now();

  before(async () => {
    dir = await mkdtemp(path.join(tmpdir(), "coinseg-store-"));
    store = new LocalObjectStore({ rootDir: dir, publicBaseUrl: () => baseUrl, signingSecret: "s".repeat(32), now: () => now });
    // A minimal stand-in for the API's PUT /uploads/<token> route.
    server = createServer(async (req, res) => {
      const grant = store.verifyUploadToken(decodeURIComponent(req.url!.replace("/uploads/", "")));
      if (!grant) return void res.writeHead(403).end();
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      await store.put(grant.key, new Uint8Array(Buffer.concat(chunks)));
      res.writeHead(200).end();
    });
    await new Promise<void>((r) => server.listen(0, "127.0.0.1", r));
    baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  after(async () => {
    await new Promise((r) => server.close(r));
    await rm(dir, { recursive: true, force: true });
  });

  objectStoreContract(() => store, () => "t");

  it("should refuse an upload token when it is tampered with or expired", async () => {
    const target = await store.createUploadUrl("t/x", { ttlSeconds: 10, contentType: "image/png" });
    const token = target.url.split("/uploads/")[1]!;
    assert.equal(store.verifyUploadToken(token)?.key, "t/x");
    assert.equal(store.verifyUploadToken(token.replace(/.$/, (c) => (c === "A" ? "B" : "A"))), null);
    now += 11_000;
    assert.equal(store.verifyUploadToken(token), null);
  });
});
