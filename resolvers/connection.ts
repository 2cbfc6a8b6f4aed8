// Relay connection helpers.
import { decodeCursor, encodeCursor } from "../core/domain/cursor.ts";
import { DomainError } from "../core/errors/domain-error.ts";

/** A Relay connection of `T`. */
export interface Connection<T> {
  edges: { cursor: string; node: T }[];
  pageInfo: { hasNextPage: boolean; hasPreviousPage: boolean; startCursor: string | null; endCursor: string | null };
}

/** Builds a connection from one page of items and a cursor function. */
export function toConnection<T>(items: readonly T[], hasNextPage: boolean, cursorOf: (item: T) => string): Connection<T> {
  const edges = items.map((node) => ({ cursor: cursorOf(node), node }));
  return {
    edges,
    pageInfo: { hasNextPage, hasPreviousPage: false, startCursor: edges[0]?.cursor ?? null, endCursor: edges.at(-1)?.cursor ?? null },
  };
}

/**
 * Pages an in-memory list (already loaded by a DataLoader) by position.
 * @throws DomainError BAD_USER_INPUT on a bad `first` or cursor.
 */
export function pageByPosition<T>(all: readonly T[], first: number, after: string | null | undefined, max: number): Connection<T> & { totalCount: number } {
  if (!Number.isInteger(first) || first < 1 || first > max) throw new DomainError("BAD_USER_INPUT", `first must be between 1 and ${max}`, { field: "first" });
  const start = after ? Number(decodeCursor(after, 1)[0]) + 1 : 0;
  const items = all.slice(start, start + first).map((node, i) => ({ node, position: start + i }));
  const conn = toConnection(items, start + first < all.length, (x) => encodeCursor([x.position]));
  return { edges: conn.edges.map((e) => ({ cursor: e.cursor, node: e.node.node })), pageInfo: conn.pageInfo, totalCount: all.length };
}
