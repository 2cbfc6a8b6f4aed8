// Opaque Relay cursors: base64url of a JSON array of the sort key.
import { DomainError } from "../errors/domain-error.ts";

/** Encodes a sort key (e.g. `[createdAtIso, id]`) as an opaque cursor. */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString("base64url");
}

/**
 * Decodes a cursor written by {@link encodeCursor}.
 * @throws DomainError BAD_USER_INPUT when the cursor is malformed.
 */
export function decodeCursor(cursor: string, length: number): (string | number)[] {
  try {
    const value: unknown = JSON.parse(Buffer.from(cursor, "base64url").toString("utf8"));
    if (Array.isArray(value) && value.length === length && value.every((v) => typeof v === "string" || typeof v === "number")) {
      return value as (string | number)[];
    }
  } catch {
    // fall through to the coded error below
  }
  throw new DomainError("BAD_USER_INPUT", "malformed cursor", { field: "after" });
}
