// Listing: filter by labels, then one page from an offset cursor.

import type { ListOptions, Page } from '../../core/ports/common.js';

/** Most items a page holds, whatever the caller asks. */
export const MAX_PAGE = 1_000;

/** One page of `items` after filtering by labels. */
export function page<T extends object>(items: Iterable<T>, options: ListOptions | undefined): Page<T> {
  const wanted = Object.entries(options?.labels ?? {});
  const start = options?.cursor === undefined ? 0 : Number(options.cursor) || 0;
  const limit = Math.min(MAX_PAGE, Math.max(1, options?.limit ?? 100));
  const out: T[] = [];
  let matched = 0;
  for (const item of items) {
    if (!wanted.every(([k, v]) => labelsOf(item)[k] === v)) continue;
    if (matched++ < start) continue;
    // One item past the page tells whether there is a next one without counting them all.
    if (out.length === limit) return { items: out, nextCursor: String(start + limit) };
    out.push(item);
  }
  return { items: out };
}

function labelsOf(item: object): Readonly<Record<string, string>> {
  return (item as { labels?: Readonly<Record<string, string>> }).labels ?? {};
}
