import { KlosetError, errorText } from '../core/errors.js';
import { decodeNode } from '../core/tree-node.js';
import { BlobType } from '../format/blob.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshot, visibleSnapshotIds } from '../snapshot/snapshot-list.js';

/**
 * Which packs of the index hold a blob that a visible snapshot needs: one byte per pack (by its
 * position in `repo.index.packs`), so marking costs no memory per blob; only tree IDs are
 * remembered, to walk an unchanged subtree once. A snapshot or tree that cannot be read stops
 * the walk: what it references is unknown, so nothing may be deleted.
 */
export async function referencedPacks(repo: Repository, onTree?: () => void): Promise<Uint8Array> {
  const packNo = new Map(repo.index.packs.map((p, i) => [p.name, i]));
  const referenced = new Uint8Array(repo.index.packs.length);
  const mark = (id: Buffer) => {
    const pack = repo.index.find(id)?.pack.name;
    if (pack !== undefined) referenced[packNo.get(pack)!] = 1;
  };
  const seenTrees = new Set<string>();
  const walk = async (treeId: string): Promise<void> => {
    if (seenTrees.has(treeId)) return;
    seenTrees.add(treeId);
    onTree?.();
    const id = Buffer.from(treeId, 'hex');
    mark(id);
    const node = decodeNode(await repo.loadBlob(id, BlobType.Tree), `tree ${treeId.slice(0, 12)}`);
    if (!('entries' in node)) {
      for (const part of node.parts) await walk(part);
      return;
    }
    for (const entry of node.entries) {
      if (entry.type === 'dir') await walk(entry.subtree);
      else if (entry.type === 'file') for (const chunk of entry.chunks) mark(Buffer.from(chunk, 'hex'));
    }
  };
  // sync reads the records of removed snapshots, not to copy them again: records stay, trees go
  for (const id of repo.index.tombstones) mark(Buffer.from(id, 'hex'));
  for (const id of visibleSnapshotIds(repo)) {
    try {
      mark(Buffer.from(id, 'hex'));
      await walk((await loadSnapshot(repo, id)).root);
    } catch (err) {
      throw new KlosetError(
        'CORRUPT',
        `snapshot ${id.slice(0, 12)} cannot be read whole (${errorText(err)}): nothing was pruned; run kloud check and kloud repair first`,
        { cause: err },
      );
    }
  }
  return referenced;
}
