import type { TreeEntry } from './tree-node.js';

/**
 * What differs between two entries of one name, each aspect on its own: the type; the content
 * (a file's data, a link's target, a directory's subtree; always, when the types differ); the
 * metadata (mode, owner, modification time); the hard-link identity (device, inode, links).
 */
export interface EntryDifference {
  readonly type: boolean;
  readonly content: boolean;
  readonly metadata: boolean;
  readonly identity: boolean;
}

export function compareEntries(a: TreeEntry, b: TreeEntry): EntryDifference {
  const metadata =
    a.mode !== b.mode ||
    a.uid !== b.uid ||
    a.gid !== b.gid ||
    a.mtime !== b.mtime ||
    a.user !== b.user ||
    a.group !== b.group;
  if (a.type === 'file' && b.type === 'file') {
    const content =
      a.size !== b.size || a.chunks.length !== b.chunks.length || a.chunks.some((c, i) => c !== b.chunks[i]);
    const identity = a.device !== b.device || a.inode !== b.inode || a.links !== b.links;
    return { type: false, content, metadata, identity };
  }
  const content =
    a.type !== b.type ||
    (a.type === 'dir' && b.type === 'dir' && a.subtree !== b.subtree) ||
    (a.type === 'symlink' && b.type === 'symlink' && a.target !== b.target);
  return { type: a.type !== b.type, content, metadata, identity: false };
}

/** Whether two entries are the same in every aspect, name included (the backup reuses such a node). */
export function sameEntry(a: TreeEntry, b: TreeEntry | undefined): boolean {
  if (!b || a.name !== b.name) return false;
  const d = compareEntries(a, b);
  return !d.type && !d.content && !d.metadata && !d.identity;
}
