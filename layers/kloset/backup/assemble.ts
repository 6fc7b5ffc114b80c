import { corrupt } from '../core/errors.js';
import type { RepositoryWriter } from '../repository/repository-writer.js';
import type { EntryMetadata, TreeEntry } from '../core/tree-node.js';
import { compareNames } from '../core/tree-node.js';
import { joinSnapshotPath } from '../snapshot/tree-reader.js';
import { saveDirectory } from './directory-writer.js';
import type { PartialTree } from './partial-tree.js';
import { type SourceNode, sourceTrie } from './source-set.js';

/**
 * Builds the snapshot tree from partial trees: each item keeps its entry (a directory with its
 * whole subtree), and the directories above items become nodes holding only the children that
 * lead to items, with the metadata the batches recorded. Returns the tree ID of `/`.
 */
export async function assembleTree(
  writer: RepositoryWriter,
  partials: readonly PartialTree[],
): Promise<string> {
  const items = new Map<string, TreeEntry>();
  const metas = new Map<string, EntryMetadata>();
  for (const p of partials) {
    for (const { path, entry } of p.items) items.set(path, entry);
    for (const { path, meta } of p.dirs) metas.set(path, meta);
  }
  const rootItem = items.get('/');
  if (rootItem?.type === 'dir') return rootItem.subtree;

  const build = async (path: string, node: SourceNode): Promise<TreeEntry[]> => {
    const entries: TreeEntry[] = [];
    for (const name of [...node.children.keys()].sort(compareNames)) {
      const childPath = joinSnapshotPath(path, name);
      const child = node.children.get(name)!;
      if (child.source) {
        const item = items.get(childPath);
        if (item) entries.push({ ...item, name });
        continue;
      }
      const meta = metas.get(childPath);
      if (!meta) throw corrupt(`no directory metadata for ${childPath} in the partial trees`);
      entries.push({
        ...meta,
        name,
        type: 'dir',
        subtree: await saveDirectory(writer, await build(childPath, child)),
      });
    }
    return entries;
  };
  return saveDirectory(writer, await build('/', sourceTrie([...items.keys()])));
}
