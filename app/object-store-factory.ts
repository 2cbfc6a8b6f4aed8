// Picks the ObjectStore adapter from configuration (services mode and Lambda).
import { randomBytes } from "node:crypto";
import path from "node:path";
import { LocalObjectStore } from "../adapters/storage/local-object-store.ts";
import { S3ObjectStore } from "../adapters/storage/s3-object-store.ts";
import { staticAwsCredentials } from "./aws-credentials.ts";
import type { Env } from "./config/env-schema.ts";
import { ConfigError } from "./config/parse-config.ts";

/** Store-related settings. */
export type ObjectStoreSettings = Pick<Env, "OBJECT_STORE" | "LOCAL_STORE_DIR" | "AWS_REGION"> &
  Partial<Pick<Env, "S3_BUCKET" | "S3_ENDPOINT" | "AWS_ACCESS_KEY_ID" | "AWS_SECRET_ACCESS_KEY" | "AWS_SESSION_TOKEN">>;

/**
 * Builds the configured store. The local store signs upload URLs with a per-process secret and
 * needs the server's base URL (`publicBaseUrl`).
 * @throws ConfigError when OBJECT_STORE=s3 without S3_BUCKET.
 */
export function createObjectStore(s: ObjectStoreSettings, publicBaseUrl: () => string): LocalObjectStore | S3ObjectStore {
  if (s.OBJECT_STORE === "local") {
    return new LocalObjectStore({ rootDir: path.resolve(s.LOCAL_STORE_DIR), publicBaseUrl, signingSecret: randomBytes(32).toString("hex") });
  }
  if (!s.S3_BUCKET) throw new ConfigError("invalid environment:\n  S3_BUCKET: required when OBJECT_STORE=s3");
  return new S3ObjectStore({ bucket: s.S3_BUCKET, region: s.AWS_REGION, endpoint: s.S3_ENDPOINT, credentials: staticAwsCredentials(s) });
}
