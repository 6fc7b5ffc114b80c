import { resolve } from 'node:path';

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
