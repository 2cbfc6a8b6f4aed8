// Validation of object-store keys shared by the storage adapters.

/**
 * Checks a key: non-empty `/`-separated segments of [A-Za-z0-9._-], no `.` or `..` segments, no
 * leading slash, at most 1024 characters.
 * @throws RangeError for an invalid key.
 */
export function assertObjectKey(key: string): void {
  if (key.length === 0 || key.length > 1024 || !/^[A-Za-z0-9._-]+(\/[A-Za-z0-9._-]+)*$/.test(key) || key.split("/").some((s) => s === "." || s === "..")) {
    throw new RangeError(`invalid object key: ${JSON.stringify(key)}`);
  }
}
