// One page of a keyset-paginated list.

/** Items of one page plus whether more follow. Cursors are built by the caller from the items. */
export interface Page<T> {
  readonly items: readonly T[];
  readonly hasNextPage: boolean;
}

/** Arguments of a forward page: at most `first` items after the opaque `after` cursor. */
export interface PageArgs {
  readonly first: number;
  readonly after?: string | null;
}
