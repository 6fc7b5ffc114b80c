import { KlosetError } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import type { Repository } from '../repository/repository.js';
import { type DirEntry, type TreeEntry, decodeNode, isSafeName } from '../core/tree-node.js';

export interface WalkedEntry {
  /** absolute path in the snapshot */
  readonly path: string;
  readonly entry: TreeEntry;
}

/** Splits a snapshot path into safe components; `/`, `` and `.` address the root. */
export function splitSnapshotPath(path: string): string[] {
  const parts = path.split('/').filter((p) => p !== '' && p !== '.');
  for (const p of parts) {
    if (!isSafeName(p)) throw new KlosetError('INVALID_ARGUMENT', `invalid path in snapshot: ${path}`);
  }
  return parts;
}

export function joinSnapshotPath(dir: string, name: string): string {
  return dir === '/' ? `/${name}` : `${dir}/${name}`;
}

/** Decoded nodes kept per reader: path lookups of one batch revisit the same directories. */
const CACHED_NODES = 256;

/** Reads directory nodes of snapshots (parts resolved) and walks them. */
export class TreeReader {
  private readonly cache = new Map<string, Promise<TreeEntry[]>>();

  constructor(private readonly repo: Repository) {}

  entries(treeId: string): Promise<TreeEntry[]> {
    let entries = this.cache.get(treeId);
    if (entries) {
      this.cache.delete(treeId); // re-insert: the map's order is the recency order
    } else {
      entries = this.load(treeId);
      entries.catch(() => this.cache.delete(treeId));
      if (this.cache.size >= CACHED_NODES) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(treeId, entries);
    return entries;
  }

  private async load(treeId: string): Promise<TreeEntry[]> {
    const what = `tree ${treeId.slice(0, 12)}`;
    const node = decodeNode(await this.repo.loadBlob(Buffer.from(treeId, 'hex'), BlobType.Tree), what);
    if ('entries' in node) return node.entries;
    const out: TreeEntry[] = [];
    for (const part of node.parts) out.push(...(await this.load(part)));
    return out;
  }

  /** The entry at `path` (a synthetic directory entry named `/` for the root). */
  async resolve(rootId: string, path: string): Promise<WalkedEntry> {
    let entry: TreeEntry = rootEntry(rootId);
    let at = '/';
    for (const name of splitSnapshotPath(path)) {
      if (entry.type !== 'dir') throw new KlosetError('PATH_NOT_FOUND', `${at} is not a directory`);
      const siblings: TreeEntry[] = await this.entries(entry.subtree);
      const child = siblings.find((e) => e.name === name);
      at = joinSnapshotPath(at, name);
      if (!child) throw new KlosetError('PATH_NOT_FOUND', `no ${at} in the snapshot`);
      entry = child;
    }
    return { path: at, entry };
  }

  /** Depth-first, parents before children, siblings in name order. */
  async *walk(treeId: string, dir = '/'): AsyncGenerator<WalkedEntry> {
    for (const entry of await this.entries(treeId)) {
      const path = joinSnapshotPath(dir, entry.name);
      yield { path, entry };
      if (entry.type === 'dir') yield* this.walk(entry.subtree, path);
    }
  }
}

function rootEntry(rootId: string): DirEntry {
  return { name: '/', type: 'dir', subtree: rootId, mode: 0o755, uid: 0, gid: 0, mtime: '0' };
}
