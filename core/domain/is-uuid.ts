// Id syntax check: ids are UUIDs, so anything else cannot exist and is NOT_FOUND without a query.

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a syntactically valid UUID. */
export function isUuid(id: string): boolean {
  return UUID.test(id);
}
