import picomatch from 'picomatch';

/**
 * Exclude patterns, as restic's: a pattern without `/` matches a name anywhere in the tree
 * (`*.log`, `node_modules`); a pattern with `/` matches the absolute path (`/home/*\/.cache`).
 * An excluded directory is skipped whole.
 */
export function excludeMatcher(patterns: readonly string[]): (path: string, name: string) => boolean {
  const byName = patterns.filter((p) => !p.includes('/')).map((p) => picomatch(p, { dot: true }));
  const byPath = patterns
    .filter((p) => p.includes('/'))
    .map((p) => picomatch(p.replace(/\/+$/, ''), { dot: true }));
  if (byName.length === 0 && byPath.length === 0) return () => false;
  return (path, name) => byName.some((m) => m(name)) || byPath.some((m) => m(path));
}
