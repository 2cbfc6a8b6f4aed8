// AWS Signature Version 4 for a single request, with node:crypto only (no SDK in the Lambda bundle for it).
import { createHash, createHmac } from "node:crypto";

/** Credentials as the Lambda runtime exposes them. */
export interface AwsCredentials {
  readonly accessKeyId: string;
  readonly secretAccessKey: string;
  readonly sessionToken?: string;
}

/** A request to sign. `headers` must include `host`; names are compared case-insensitively. */
export interface SigV4Request {
  readonly method: string;
  /** Absolute path, already URI-encoded, e.g. `/`. */
  readonly path: string;
  /** Query parameters (unencoded). */
  readonly query?: Readonly<Record<string, string>>;
  readonly headers: Readonly<Record<string, string>>;
  readonly body: string;
  readonly service: string;
  readonly region: string;
  /** Request time as `YYYYMMDDTHHMMSSZ`. */
  readonly amzDate: string;
}

const sha256Hex = (s: string) => createHash("sha256").update(s, "utf8").digest("hex");
const hmac = (key: Buffer | string, s: string) => createHmac("sha256", key).update(s, "utf8").digest();
const encode = (s: string) => encodeURIComponent(s).replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`);

/**
 * Signs a request and returns the headers to send: the input headers plus `x-amz-date`,
 * `x-amz-security-token` (when there is a session token) and `authorization`.
 */
export function signRequest(req: SigV4Request, credentials: AwsCredentials): Record<string, string> {
  const headers: Record<string, string> = {};
  for (const [k, v] of Object.entries(req.headers)) headers[k.toLowerCase()] = v.trim().replace(/\s+/g, " ");
  headers["x-amz-date"] = req.amzDate;
  if (credentials.sessionToken) headers["x-amz-security-token"] = credentials.sessionToken;
  const names = Object.keys(headers).sort();
  const signedHeaders = names.join(";");
  const query = Object.entries(req.query ?? {}).map(([k, v]) => `${encode(k)}=${encode(v)}`).sort().join("&");
  const canonicalRequest = [req.method, req.path, query, names.map((n) => `${n}:${headers[n]}\n`).join(""), signedHeaders, sha256Hex(req.body)].join("\n");
  const date = req.amzDate.slice(0, 8);
  const scope = `${date}/${req.region}/${req.service}/aws4_request`;
  const stringToSign = ["AWS4-HMAC-SHA256", req.amzDate, scope, sha256Hex(canonicalRequest)].join("\n");
  const signingKey = hmac(hmac(hmac(hmac(`AWS4${credentials.secretAccessKey}`, date), req.region), req.service), "aws4_request");
  const signature = createHmac("sha256", signingKey).update(stringToSign, "utf8").digest("hex");
  headers["authorization"] = `AWS4-HMAC-SHA256 Credential=${credentials.accessKeyId}/${scope}, SignedHeaders=${signedHeaders}, Signature=${signature}`;
  return headers;
}

/** `YYYYMMDDTHHMMSSZ` for a time. */
export function toAmzDate(time: Date): string {
  return time.toISOString().replace(/[-:]/g, "").replace(/\.\d{3}/, "");
}
