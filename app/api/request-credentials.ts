// Extracts credentials from HTTP headers or graphql-ws connection params.
import type { Credentials } from "../../core/services/auth.service.ts";

/** Reads `x-api-key` and `authorization: Bearer …` (header names are case-insensitive). */
export function credentialsFromHeaders(get: (name: string) => string | undefined | null): Credentials {
  const apiKey = get("x-api-key")?.trim() || null;
  const auth = get("authorization")?.trim() ?? "";
  const bearerToken = /^Bearer\s+(.+)$/i.exec(auth)?.[1] ?? null;
  return { apiKey, bearerToken };
}

/** Reads `{ apiKey }` or `{ authorization: "Bearer …" }` from graphql-ws connection params. */
export function credentialsFromConnectionParams(params: Readonly<Record<string, unknown>> | undefined): Credentials {
  const value = (k: string) => (typeof params?.[k] === "string" ? (params[k] as string) : null);
  return credentialsFromHeaders((name) => (name === "x-api-key" ? value("apiKey") ?? value("x-api-key") : value("authorization") ?? value("Authorization")));
}
