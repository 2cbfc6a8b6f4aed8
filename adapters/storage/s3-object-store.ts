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

/**
 * Object tag every presigned upload carries. Raw uploads live at `orgs/<organizationId>/uploads/…`,
 * a layout no S3 lifecycle prefix can select across organisations, so the bucket's lifecycle rule
 * (infra/lib/constructs/object-bucket.ts) expires never-imported uploads by this tag instead.
 */
export const UPLOAD_OBJECT_TAG = { key: "coinseg-object", value: "upload" } as const;

/** `x-amz-tagging` value of {@link UPLOAD_OBJECT_TAG} (URL-query encoded, as S3 expects). */
const UPLOAD_TAGGING = new URLSearchParams({ [UPLOAD_OBJECT_TAG.key]: UPLOAD_OBJECT_TAG.value }).toString();

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

  /**
   * A presigned PUT that tags the object with {@link UPLOAD_OBJECT_TAG}. The tag travels as a signed
   * `x-amz-tagging` header (S3 ignores one hoisted into the query string), so a client that drops
   * it from `headers` gets 403 instead of an untagged upload that would never expire. The signer
   * needs s3:PutObjectTagging besides s3:PutObject.
   */
  async createUploadUrl(key: string, options: { ttlSeconds: number; contentType: string }): Promise<UploadTarget> {
    assertObjectKey(key);
    const command = new PutObjectCommand({ Bucket: this.bucket, Key: key, ContentType: options.contentType, Tagging: UPLOAD_TAGGING });
    const url = await getSignedUrl(this.client, command, { expiresIn: options.ttlSeconds, unhoistableHeaders: new Set(["x-amz-tagging"]) });
    return {
      url, method: "PUT", headers: { "content-type": options.contentType, "x-amz-tagging": UPLOAD_TAGGING }, expiresAt: new Date(Date.now() + options.ttlSeconds * 1000),
    };
  }
}
