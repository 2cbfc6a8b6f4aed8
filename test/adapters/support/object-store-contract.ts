// Behaviour every ObjectStore adapter must show; run by the local and S3 adapter tests.
import { it } from "node:test";
import assert from "node:assert/strict";
import type { ObjectStore } from "../../../core/ports/object-store.port.ts";

/** Registers the contract tests for a store created by `getStore` (called inside each test). */
export function objectStoreContract(getStore: () => ObjectStore, prefix: () => string): void {
  it("should return the same bytes when an object is put then read", async () => {
    const store = getStore();
    const bytes = new Uint8Array([0, 1, 2, 250, 251]);
    await store.put(`${prefix()}/a/b.bin`, bytes, "application/octet-stream");
    assert.deepEqual(await store.get(`${prefix()}/a/b.bin`), bytes);
    assert.equal((await store.head(`${prefix()}/a/b.bin`))?.sizeBytes, 5);
  });

  it("should return null when the object does not exist", async () => {
    const store = getStore();
    assert.equal(await store.get(`${prefix()}/missing`), null);
    assert.equal(await store.head(`${prefix()}/missing`), null);
  });

  it("should delete only the objects under a prefix when deletePrefix is called", async () => {
    const store = getStore();
    await store.put(`${prefix()}/d/1`, new Uint8Array([1]));
    await store.put(`${prefix()}/d/2/3`, new Uint8Array([2]));
    await store.put(`${prefix()}/keep`, new Uint8Array([3]));
    assert.equal(await store.deletePrefix(`${prefix()}/d/`), 2);
    assert.equal(await store.get(`${prefix()}/d/1`), null);
    assert.deepEqual(await store.get(`${prefix()}/keep`), new Uint8Array([3]));
  });

  it("should delete exactly the given keys, and skip absent ones, when deleteObjects is called", async () => {
    const store = getStore();
    for (const k of ["u/1", "u/10", "u/2", "u/3/x"]) await store.put(`${prefix()}/${k}`, new Uint8Array([1]));
    // More keys than one S3 DeleteObjects request takes (1000), most of them absent, the last one present.
    const absent = Array.from({ length: 1000 }, (_, i) => `${prefix()}/u/absent-${i}`);
    await store.deleteObjects([`${prefix()}/u/1`, ...absent, `${prefix()}/u/2`]);
    assert.equal(await store.head(`${prefix()}/u/1`), null);
    assert.equal(await store.head(`${prefix()}/u/2`), null);
    assert.deepEqual(await store.get(`${prefix()}/u/10`), new Uint8Array([1]), "a key is not a prefix");
    assert.deepEqual(await store.get(`${prefix()}/u/3/x`), new Uint8Array([1]));
    await store.deleteObjects([]);
  });

  it("should reject keys with dot-dot segments when asked to delete them", async () => {
    await assert.rejects(getStore().deleteObjects([`${prefix()}/../escape`]), RangeError);
  });

  it("should reject keys with dot-dot segments when asked to store them", async () => {
    await assert.rejects(getStore().put(`${prefix()}/../escape`, new Uint8Array([1])), RangeError);
  });

  it("should accept a PUT of the bytes when a client uses the upload URL", async () => {
    const store = getStore();
    const key = `${prefix()}/uploads/u1`;
    const target = await store.createUploadUrl(key, { ttlSeconds: 60, contentType: "image/png" });
    assert.equal(target.method, "PUT");
    const response = await fetch(target.url, { method: "PUT", headers: target.headers, body: Buffer.from([9, 8, 7]) });
    assert.equal(response.status, 200, await response.text());
    assert.deepEqual(await store.get(key), new Uint8Array([9, 8, 7]));
  });
}
