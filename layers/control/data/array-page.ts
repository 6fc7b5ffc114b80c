/** Pages of a list held in memory (bucket and directory listings): the token names the last item given. */
import { badPageToken } from './page-token.js';
import type { Page } from './table.js';

export function pageOfArray<T>(
  items: readonly T[],
  idOf: (item: T) => string,
  limit: number,
  nextToken?: string,
): Page<T> {
  let start = 0;
  if (nextToken !== undefined) {
    const after = Buffer.from(nextToken, 'base64url').toString('utf8');
    const at = items.findIndex((item) => idOf(item) === after);
    if (at < 0) throw badPageToken();
    start = at + 1;
  }
  const page = items.slice(start, start + limit);
  const last = page.at(-1);
  const more = start + limit < items.length && last !== undefined;
  return { items: page, ...(more && { nextToken: Buffer.from(idOf(last)).toString('base64url') }) };
}
