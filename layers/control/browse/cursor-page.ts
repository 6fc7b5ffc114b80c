/**
 * Pages of what the engine lists in a stable order (snapshots, a directory's entries, a diff, a
 * search's findings): the token is the key of the last item given, as its bytes in base64url, so
 * names that are not UTF-8 (docs/FORMAT.md, "Names as bytes") survive the round trip.
 */
import { nameFromBytes, nameToBytes } from '../../kloset/core/byte-names.js';
import { badPageToken } from '../data/page-token.js';
import type { Page } from '../data/table.js';

export function cursorToken(key: string): string {
  return nameToBytes(key).toString('base64url');
}

/** The key a token names; a token that is not base64url is not one this API gave (400). */
export function cursorKey(token: string | undefined): string | undefined {
  if (token === undefined) return undefined;
  if (!/^[A-Za-z0-9_-]+$/.test(token)) throw badPageToken();
  return nameFromBytes(Buffer.from(token, 'base64url'));
}

/**
 * The `limit` items after the one whose key the token names. The sequence is read from its start
 * each time (the engine has no seek for these), and stops as soon as the page is full.
 */
export async function pageAfter<T>(
  items: AsyncIterable<T> | Iterable<T>,
  keyOf: (item: T) => string,
  limit: number,
  nextToken: string | undefined,
): Promise<Page<T>> {
  const after = cursorKey(nextToken);
  let found = after === undefined;
  const page: T[] = [];
  for await (const item of items) {
    if (!found) {
      found = keyOf(item) === after;
      continue;
    }
    if (page.length === limit) return { items: page, nextToken: cursorToken(keyOf(page.at(-1)!)) };
    page.push(item);
  }
  if (!found) throw badPageToken();
  return { items: page };
}
