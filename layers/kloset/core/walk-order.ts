import { compareNames } from './tree-node.js';

/**
 * The order a backup plan walks a source and its parent snapshot in, so that both streams merge
 * in one pass: entries ordered by the bytes of their walk keys, a directory's key being its path
 * followed by `/`. It is S3's key order (`a.txt` before `a/x`), so an S3 source walks a whole
 * prefix as one listing, and every entry of a directory follows the directory's key at once.
 */
export function walkKey(path: string, isDir: boolean): string {
  if (!isDir) return path;
  return path.endsWith('/') ? path : `${path}/`;
}

export const compareWalkKeys = compareNames;

/** Whether the entry with walk key `key` lies inside the directory with walk key `dirKey`. */
export function isBelow(key: string, dirKey: string): boolean {
  return dirKey.endsWith('/') && key.length > dirKey.length && key.startsWith(dirKey);
}
