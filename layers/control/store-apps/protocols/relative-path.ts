/**
 * A relative path checked segment by segment, so that what is checked is what the engine uses:
 * no empty, `.` or `..` segment (a regex anchored at the start misses `a\n/../x`), no `%` (the
 * engine percent-decodes URL paths, so `%2e%2e` would become `..`), no `\`, no control character.
 */
export function isPlainRelativePath(path: string): boolean {
  return path
    .replace(/\/$/, '')
    .split('/')
    .every(
      (segment) => segment !== '' && segment !== '.' && segment !== '..' && !/[\\%\p{Cc}]/u.test(segment),
    );
}

export const PLAIN_RELATIVE_PATH =
  'a relative path of plain segments (a trailing / at most; no empty, . or .. segment, no %, \\ or control character)';
