import { KlosetError, corrupt } from '../core/errors.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { SnapshotError } from '../snapshot/snapshot-record.js';
import type { EntryMetadata, FileEntry, TreeEntry } from '../core/tree-node.js';
import { compareNames } from '../core/tree-node.js';
import { TreeReader, joinSnapshotPath } from '../snapshot/tree-reader.js';
import { saveDirectory } from './directory-writer.js';
import type { PartialTree, RangeResult } from './partial-tree.js';
import { type SourceNode, sourceTrie } from './source-set.js';

export interface AssembledTree {
  /** tree ID of `/` */
  readonly root: string;
  /** files joined from ranges */
  readonly joinedFiles: number;
  /** bytes the batches counted of ranges left out (files that could not be read to the end) */
  readonly leftOutBytes: number;
  readonly errors: readonly SnapshotError[];
}

/**
 * Builds the snapshot tree from partial trees on top of a base tree (the parent snapshot a plan
 * compared with; none for a single-process backup). Each item replaces its path's entry (a
 * directory item with its whole subtree), ranges are joined into file entries, gone paths are
 * removed, and every directory above a change becomes a new node: its base entries with the
 * changes applied, with the metadata a batch recorded or else the base's. Directories without a
 * change below keep the base's subtree as it is.
 */
export async function assembleTree(
  writer: RepositoryWriter,
  partials: readonly PartialTree[],
  base?: string,
): Promise<AssembledTree> {
  const items = new Map<string, TreeEntry>();
  const metas = new Map<string, EntryMetadata>();
  const gone = new Set<string>();
  for (const p of partials) {
    for (const { path, entry } of p.items) items.set(path, entry);
    for (const { path, meta } of p.dirs) metas.set(path, meta);
    for (const path of p.gone) gone.add(path);
  }
  const unreadable = new Set(partials.flatMap((p) => p.errors.map((e) => e.path)));
  const { joined, leftOutBytes } = joinRanges(
    partials.flatMap((p) => p.ranges),
    unreadable,
  );
  for (const [path, entry] of joined) items.set(path, entry);
  const joinedFiles = joined.size;
  const rootItem = items.get('/');
  if (rootItem?.type === 'dir') return { root: rootItem.subtree, joinedFiles, leftOutBytes, errors: [] };

  const reader = new TreeReader(writer.repo);
  const errors: SnapshotError[] = [];
  const build = async (path: string, node: SourceNode, subtree?: string): Promise<TreeEntry[]> => {
    const entries = new Map((subtree ? await reader.entries(subtree) : []).map((e) => [e.name, e]));
    for (const [name, child] of node.children) {
      const childPath = joinSnapshotPath(path, name);
      if (gone.has(childPath)) entries.delete(name);
      const item = items.get(childPath);
      const previous = entries.get(name);
      const below = child.children.size > 0 || metas.has(childPath);
      if (item && (item.type === 'dir' || !(below || previous?.type === 'dir'))) {
        entries.set(name, { ...item, name });
        continue;
      }
      // an S3 object whose name is also the prefix of other keys: the directory is kept, as S3Source.list does
      if (item)
        errors.push({
          path: childPath,
          message: 'both a file and a directory in the source (kept as the directory)',
        });
      if (!below) continue;
      const meta = metas.get(childPath) ?? (previous?.type === 'dir' ? previous : undefined);
      if (!meta) throw corrupt(`no directory metadata for ${childPath} in the partial trees`);
      const children = await build(childPath, child, previous?.type === 'dir' ? previous.subtree : undefined);
      const subtree = await saveDirectory(writer, children);
      entries.set(name, { ...meta, name, type: 'dir', subtree });
    }
    return [...entries.values()].sort((a, b) => compareNames(a.name, b.name));
  };
  const changed = sourceTrie([...items.keys(), ...metas.keys(), ...gone]);
  const root = await saveDirectory(writer, await build('/', changed, base));
  return { root, joinedFiles, leftOutBytes, errors };
}

/**
 * The file entries of files backed up in ranges: each file's ranges in offset order, covering it
 * from its first byte to its last, else INVALID_ARGUMENT (a batch of the plan is missing). A file
 * with an error recorded (a range of it could not be read: it was deleted or shrank after its
 * first part was read) is left out, as a file that cannot be read at once is: its error stays in
 * the snapshot's, and its entry in the base, if any, stays as it was.
 */
function joinRanges(
  ranges: readonly RangeResult[],
  unreadable: ReadonlySet<string>,
): { joined: Map<string, FileEntry>; leftOutBytes: number } {
  const byPath = new Map<string, RangeResult[]>();
  for (const r of ranges) byPath.set(r.path, [...(byPath.get(r.path) ?? []), r]);
  const files = new Map<string, FileEntry>();
  let leftOutBytes = 0;
  for (const [path, parts] of byPath) {
    if (unreadable.has(path)) {
      leftOutBytes += parts.reduce((sum, p) => sum + p.read, 0);
      continue;
    }
    parts.sort((a, b) => a.offset - b.offset);
    const size = parts[0]!.entry.size;
    let end = 0;
    for (const part of parts) {
      if (part.offset !== end || part.entry.size !== size)
        throw new KlosetError(
          'INVALID_ARGUMENT',
          `the ranges of ${path} do not join: bytes ${end}–${part.offset} are missing or overlap (was every batch of the plan backed up?)`,
        );
      end = part.offset + part.length;
    }
    if (end !== size)
      throw new KlosetError(
        'INVALID_ARGUMENT',
        `the ranges of ${path} end at byte ${end} of ${size} (was every batch of the plan backed up?)`,
      );
    const read = parts.reduce((sum, p) => sum + p.read, 0);
    files.set(path, { ...parts[0]!.entry, size: read, chunks: parts.flatMap((p) => p.entry.chunks) });
  }
  return { joined: files, leftOutBytes };
}
