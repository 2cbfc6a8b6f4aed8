// Reads a secret's string from AWS Secrets Manager over HTTPS with a SigV4-signed request.
import { signRequest, toAmzDate, type AwsCredentials } from "./sigv4.ts";

/** Where and as whom to call Secrets Manager. */
export interface SecretsManagerReaderOptions {
  readonly region: string;
  readonly credentials: AwsCredentials;
  /** Override for tests (an emulator); default `https://secretsmanager.<region>.amazonaws.com`. */
  readonly endpoint?: string;
}

/**
 * Calls one Secrets Manager action (JSON 1.1 protocol) and returns the parsed response.
 * @throws Error with the service's error type when the response is not 2xx
 */
export async function callSecretsManager(options: SecretsManagerReaderOptions, action: string, payload: object): Promise<Record<string, unknown>> {
  const url = new URL(options.endpoint ?? `https://secretsmanager.${options.region}.amazonaws.com`);
  const body = JSON.stringify(payload);
  const headers = signRequest({
    method: "POST", path: "/", body, service: "secretsmanager", region: options.region, amzDate: toAmzDate(new Date()),
    headers: { host: url.host, "content-type": "application/x-amz-json-1.1", "x-amz-target": `secretsmanager.${action}` },
  }, options.credentials);
  delete headers["host"]; // fetch sets it (same value); undici refuses to send it by hand
  const res = await fetch(new URL("/", url), { method: "POST", headers, body });
  const text = await res.text();
  if (!res.ok) throw new Error(`secretsmanager ${action} failed: HTTP ${res.status} ${text.slice(0, 200)}`);
  return JSON.parse(text) as Record<string, unknown>;
}

/**
 * The `SecretString` of a secret (current version).
 * @throws Error when the call fails or the secret has no string value
 */
export async function readSecretString(options: SecretsManagerReaderOptions, secretId: string): Promise<string> {
  const out = await callSecretsManager(options, "GetSecretValue", { SecretId: secretId });
  if (typeof out["SecretString"] !== "string") throw new Error(`secret ${secretId} has no SecretString`);
  return out["SecretString"];
}
