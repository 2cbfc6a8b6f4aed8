// Blob storage for uploads and pixels: a local folder (embedded) or S3.

/** Metadata of a stored object. */
export interface ObjectInfo {
  readonly key: string;
  readonly sizeBytes: number;
  readonly contentType: string | null;
}

/** A URL a client sends the object's bytes to. */
export interface UploadTarget {
  readonly url: string;
  /** HTTP method to use (PUT). */
  readonly method: "PUT";
  /** Headers the client must send with the request. */
  readonly headers: Readonly<Record<string, string>>;
  readonly expiresAt: Date;
}

/**
 * Object storage. Keys are `/`-separated paths without a leading slash; adapters reject `..`
 * segments. Implementations: adapters/storage/local-object-store.ts and s3-object-store.ts.
 */
export interface ObjectStore {
  put(key: string, bytes: Uint8Array, contentType?: string): Promise<void>;
  /** The object's bytes, or null when absent. */
  get(key: string): Promise<Uint8Array | null>;
  /** Metadata, or null when absent. */
  head(key: string): Promise<ObjectInfo | null>;
  /** Deletes every object whose key starts with `prefix`; returns how many. */
  deletePrefix(prefix: string): Promise<number>;
  /**
   * Deletes exactly these keys (no prefix matching); keys without an object are skipped.
   * @throws when an object could not be deleted (the others may be gone).
   */
  deleteObjects(keys: readonly string[]): Promise<void>;
  /** A URL the client can PUT the object to, valid for `ttlSeconds`. */
  createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }): Promise<UploadTarget>;
}
