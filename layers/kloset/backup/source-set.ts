import { dirname, resolve } from 'node:path';
import type { BackupSource } from '../core/backup-source.js';
import { KlosetError, errnoCode } from '../core/errors.js';

/**
 * The sources of one snapshot as a trie of absolute paths: the snapshot's root is `/`, each
 * source sits at its own path, and directories between `/` and a source are recorded with
 * their metadata but without their other children. A source inside another one is dropped.
 */
export interface SourceNode {
  readonly children: Map<string, SourceNode>;
  /** set when this path is itself a source */
  source?: string;
}

export function normalizeSources(paths: readonly string[]): string[] {
  const abs = [...new Set(paths.map((p) => resolve(p)))].sort();
  return abs.filter((p) => !abs.some((q) => q !== p && (q === '/' || p.startsWith(`${q}/`))));
}

export function sourceTrie(sources: readonly string[]): SourceNode {
  const root: SourceNode = { children: new Map() };
  for (const src of sources) {
    let node = root;
    for (const part of src.split('/').filter(Boolean)) {
      let next = node.children.get(part);
      if (!next) {
        next = { children: new Map() };
        node.children.set(part, next);
      }
      node = next;
    }
    node.source = src;
  }
  return root;
}

/** Every directory above `path`, `/` included. */
export function ancestors(path: string): string[] {
  const out: string[] = [];
  for (let p = dirname(path); ; p = dirname(p)) {
    out.push(p);
    if (p === '/') return out;
  }
}

/** Refuses a backup of nothing, or of a path the source does not have. */
export async function checkSources(sources: readonly string[], source: BackupSource): Promise<void> {
  if (sources.length === 0)
    throw new KlosetError('INVALID_ARGUMENT', 'nothing to back up: give at least one path');
  for (const s of sources) {
    try {
      await source.stat(s);
    } catch (err) {
      // a connector's own failure (credentials, an unreachable host) keeps its code and advice
      if (err instanceof KlosetError && err.code !== 'PATH_NOT_FOUND') throw err;
      const why =
        errnoCode(err) === 'ENOENT'
          ? 'no such file or directory'
          : err instanceof Error
            ? err.message
            : String(err);
      throw new KlosetError('INVALID_ARGUMENT', `cannot back up ${s}: ${why}`);
    }
  }
}
