// ObjectStore on a local folder (embedded mode). Uploads go to this server's PUT /uploads/<token>.
import { createHmac, timingSafeEqual } from "node:crypto";
import { mkdir, readFile, rm, stat, writeFile, readdir, rename } from "node:fs/promises";
import path from "node:path";
import type { ObjectInfo, ObjectStore, UploadTarget } from "../../core/ports/object-store.port.ts";
import { assertObjectKey } from "./object-key.ts";

/** Options of {@link LocalObjectStore}. */
export interface LocalObjectStoreOptions {
  /** Folder holding the objects (created on demand). */
  readonly rootDir: string;
  /** Base URL of the server that serves PUT /uploads/<token>, read when a URL is made. */
  readonly publicBaseUrl: () => string;
  /** HMAC secret that signs upload tokens. */
  readonly signingSecret: string;
  /** Clock, for tests. */
  readonly now?: () => number;
}

/** What an upload token grants. */
export interface UploadGrant {
  readonly key: string;
  readonly contentType: string;
  /** Expiry, epoch milliseconds. */
  readonly expiresAtMs: number;
}

/** {@link ObjectStore} on the local file system, with HMAC-signed upload URLs. */
export class LocalObjectStore implements ObjectStore {
  private readonly now: () => number;

  constructor(private readonly options: LocalObjectStoreOptions) {
    this.now = options.now ?? Date.now;
  }

  async put(key: string, bytes: Uint8Array): Promise<void> {
    const file = this.file(key);
    await mkdir(path.dirname(file), { recursive: true });
    // Write then rename, so a reader never sees half an object.
    const tmp = `${file}.${process.pid}.${Math.random().toString(36).slice(2)}.partial`;
    await writeFile(tmp, bytes);
    await rename(tmp, file);
  }

  async get(key: string): Promise<Uint8Array | null> {
    try {
      return new Uint8Array(await readFile(this.file(key)));
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    try {
      const s = await stat(this.file(key));
      return s.isFile() ? { key, sizeBytes: s.size, contentType: null } : null;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return null;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    const dir = prefix.endsWith("/") ? prefix.slice(0, -1) : prefix;
    assertObjectKey(dir);
    const target = path.join(this.options.rootDir, dir);
    let count: number;
    try {
      const s = await stat(target);
      if (s.isDirectory()) {
        count = (await readdir(target, { recursive: true, withFileTypes: true })).filter((e) => e.isFile()).length;
      } else {
        count = 1;
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === "ENOENT") return 0;
      throw error;
    }
    await rm(target, { recursive: true, force: true });
    return count;
  }

  async deleteObjects(keys: readonly string[]): Promise<void> {
    const files = keys.map((k) => this.file(k));
    // force: an absent file is not an error; without `recursive`, a key never removes a folder.
    for (const file of files) await rm(file, { force: true });
  }

  async createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }): Promise<UploadTarget> {
    assertObjectKey(key);
    const grant: UploadGrant = { key, contentType: options.contentType, expiresAtMs: this.now() + options.ttlSeconds * 1000 };
    const payload = Buffer.from(JSON.stringify(grant)).toString("base64url");
    const token = `${payload}.${this.sign(payload)}`;
    return {
      url: `${this.options.publicBaseUrl().replace(/\/$/, "")}/uploads/${token}`,
      method: "PUT",
      headers: { "content-type": options.contentType },
      expiresAt: new Date(grant.expiresAtMs),
    };
  }

  /** The grant of a valid, unexpired token; null otherwise. */
  verifyUploadToken(token: string): UploadGrant | null {
    const [payload, signature] = token.split(".");
    if (!payload || !signature) return null;
    const expected = Buffer.from(this.sign(payload));
    const given = Buffer.from(signature);
    if (expected.length !== given.length || !timingSafeEqual(expected, given)) return null;
    try {
      const grant = JSON.parse(Buffer.from(payload, "base64url").toString("utf8")) as UploadGrant;
      if (typeof grant.key !== "string" || grant.expiresAtMs < this.now()) return null;
      assertObjectKey(grant.key);
      return grant;
    } catch {
      return null;
    }
  }

  private sign(payload: string): string {
    return createHmac("sha256", this.options.signingSecret).update(payload).digest("base64url");
  }

  private file(key: string): string {
    assertObjectKey(key);
    return path.join(this.options.rootDir, key);
  }
}
