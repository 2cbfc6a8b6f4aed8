// ObjectStore on S3 (or any S3-compatible endpoint), with presigned PUT URLs for uploads.
import { DeleteObjectsCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client, S3ServiceException } from "@aws-sdk/client-s3";
import { getSignedUrl } from "@aws-sdk/s3-request-presigner";
import type { ObjectInfo, ObjectStore, UploadTarget } from "../../core/ports/object-store.port.ts";
import { assertObjectKey } from "./object-key.ts";

/** Options of {@link S3ObjectStore}. */
export interface S3ObjectStoreOptions {
  readonly bucket: string;
  readonly region: string;
  /** S3-compatible endpoint (e.g. a local emulator); unset = AWS. */
  readonly endpoint?: string | undefined;
  /** Static credentials; required for local endpoints (otherwise the SDK would probe for cloud credentials). */
  readonly credentials?: { accessKeyId: string; secretAccessKey: string } | undefined;
  /** Path-style URLs (bucket in the path); default true when an endpoint is set. */
  readonly forcePathStyle?: boolean;
}

/** Most keys one DeleteObjects request may name (an S3 limit). */
const DELETE_BATCH = 1000;

function isMissing(error: unknown): boolean {
  return error instanceof S3ServiceException && (error.name === "NoSuchKey" || error.name === "NotFound" || error.$metadata.httpStatusCode === 404);
}

/** {@link ObjectStore} on an S3 bucket. */
export class S3ObjectStore implements ObjectStore {
  readonly client: S3Client;
  private readonly bucket: string;

  constructor(options: S3ObjectStoreOptions) {
    this.bucket = options.bucket;
    this.client = new S3Client({
      region: options.region,
      ...(options.endpoint ? { endpoint: options.endpoint } : {}),
      ...(options.credentials ? { credentials: options.credentials } : {}),
      forcePathStyle: options.forcePathStyle ?? Boolean(options.endpoint),
      // Checksums on every request are not needed for our objects and break some emulators' presigned PUTs.
      requestChecksumCalculation: "WHEN_REQUIRED",
      responseChecksumValidation: "WHEN_REQUIRED",
    });
  }

  async put(key: string, bytes: Uint8Array, contentType = "application/octet-stream"): Promise<void> {
    assertObjectKey(key);
    await this.client.send(new PutObjectCommand({ Bucket: this.bucket, Key: key, Body: bytes, ContentType: contentType }));
  }

  async get(key: string): Promise<Uint8Array | null> {
    assertObjectKey(key);
    try {
      const out = await this.client.send(new GetObjectCommand({ Bucket: this.bucket, Key: key }));
      return out.Body ? await out.Body.transformToByteArray() : new Uint8Array();
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async head(key: string): Promise<ObjectInfo | null> {
    assertObjectKey(key);
    try {
      const out = await this.client.send(new HeadObjectCommand({ Bucket: this.bucket, Key: key }));
      return { key, sizeBytes: out.ContentLength ?? 0, contentType: out.ContentType ?? null };
    } catch (error) {
      if (isMissing(error)) return null;
      throw error;
    }
  }

  async deletePrefix(prefix: string): Promise<number> {
    assertObjectKey(prefix.replace(/\/$/, ""));
    let deleted = 0;
    let token: string | undefined;
    do {
      const page = await this.client.send(new ListObjectsV2Command({ Bucket: this.bucket, Prefix: prefix, ContinuationToken: token }));
      const keys = (page.Contents ?? []).flatMap((o) => (o.Key ? [{ Key: o.Key }] : []));
      if (keys.length > 0) {
        await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: keys, Quiet: true } }));
        deleted += keys.length;
      }
      token = page.IsTruncated ? page.NextContinuationToken : undefined;
    } while (token);
    return deleted;
  }

  async deleteObjects(keys: readonly string[]): Promise<void> {
    for (const key of keys) assertObjectKey(key);
    for (let start = 0; start < keys.length; start += DELETE_BATCH) {
      const batch = keys.slice(start, start + DELETE_BATCH).map((Key) => ({ Key }));
      // Quiet: the answer lists only the keys that failed (an absent key counts as deleted).
      const out = await this.client.send(new DeleteObjectsCommand({ Bucket: this.bucket, Delete: { Objects: batch, Quiet: true } }));
      const failed = out.Errors ?? [];
      if (failed.length > 0) throw new Error(`S3 did not delete ${failed.length} of ${batch.length} objects (first: ${failed[0]!.Code ?? "unknown error"})`);
    }
  }

  async createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }): Promise<UploadTarget> {
    assertObjectKey(key);
    const url = await getSignedUrl(this.client, new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType }), {
      expiresIn: options.ttlSeconds,
    });
    return { url, method: "PUT", headers: { "content-type": options.contentType }, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000) };
  }
}
