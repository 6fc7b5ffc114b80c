/**
 * DynamoDB's LastEvaluatedKey as the API's opaque `nextToken` (base64url JSON), and back. A token
 * that does not decode to the keys of the list it came from is the caller's mistake (400).
 */
import { BadRequest } from '../errors.js';

type Key = Record<string, string>;

export function encodePageToken(key: Key | undefined): string | undefined {
  return key && Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The answer to a token no list of this API gave (or one of another list). */
export function badPageToken(): BadRequest {
  return new BadRequest('nextToken is not one this list gave: start again without it', 'BAD_PAGE_TOKEN');
}

/** `fixed`: key values the token must have (the list's partition). */
export function decodePageToken(
  token: string | undefined,
  keyNames: readonly string[],
  fixed: Key = {},
): Key | undefined {
  if (token === undefined) return undefined;
  const invalid = badPageToken();
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(token, 'base64url').toString('utf8'));
  } catch {
    throw invalid;
  }
  if (typeof key !== 'object' || key === null) throw invalid;
  const entries = Object.entries(key);
  if (
    entries.length !== keyNames.length ||
    entries.some(([name, value]) => !keyNames.includes(name) || typeof value !== 'string') ||
    Object.entries(fixed).some(([name, value]) => (key as Key)[name] !== value)
  )
    throw invalid;
  return key as Key;
}
