import type { PackInfo } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';
import type { TreeEntry } from '../core/tree-node.js';
import { TreeReader } from '../snapshot/tree-reader.js';

/**
 * The data packs holding the content of a snapshot path (a file, or everything below a
 * directory), read from the trees and the index alone: what a restore of that path will read.
 * Chunks missing from the index are left out; the restore reports their files.
 */
export async function neededDataPacks(repo: Repository, root: string, path: string): Promise<PackInfo[]> {
  const trees = new TreeReader(repo);
  const packs = new Map<string, PackInfo>();
  const seenTrees = new Set<string>();
  const visit = async (entry: TreeEntry): Promise<void> => {
    if (entry.type === 'file') {
      for (const chunk of entry.chunks) {
        const pack = repo.index.find(Buffer.from(chunk, 'hex'))?.pack;
        if (pack) packs.set(pack.name, pack);
      }
    } else if (entry.type === 'dir' && !seenTrees.has(entry.subtree)) {
      // equal subtrees (unchanged copies of a directory) hold the same chunks: walk them once
      seenTrees.add(entry.subtree);
      for (const child of await trees.entries(entry.subtree)) await visit(child);
    }
  };
  await visit((await trees.resolve(root, path)).entry);
  return [...packs.values()];
}
