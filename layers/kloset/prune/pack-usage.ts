import { KlosetError, errorText } from '../core/errors.js';
import { decodeNode } from '../core/tree-node.js';
import { BlobType } from '../format/blob.js';
import type { BlobIndex } from '../index/blob-index.js';
import { LENGTH_AT, PACK_AT, RECORD_SIZE } from '../index/index-table.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshot, visibleSnapshotIds } from '../snapshot/snapshot-list.js';

/** How much of each pack of a prune index the visible snapshots use, and which blobs. */
export interface PackUsage {
  /** one bit per blob of the index, by its position: set when a visible snapshot needs it */
  readonly live: Uint8Array;
  /** by pack number: bytes of the blobs the index locates in the pack */
  readonly indexedBytes: Float64Array;
  /** by pack number: bytes of those blobs that are live */
  readonly liveBytes: Float64Array;
}

export function isLive(live: Uint8Array, position: number): boolean {
  return (live[position >>> 3]! & (1 << (position & 7))) !== 0;
}

/**
 * Marks the blobs visible snapshots need: a bit per blob of `index` (12.5 MB for 100 million
 * blobs) and the tree IDs walked, to walk a shared subtree once; then sums live and indexed bytes
 * per pack in one pass over the records. A snapshot or tree that cannot be read stops the walk:
 * what it references is unknown, so nothing may be deleted. `assumeRemoved` snapshots count as
 * tombstoned (a dry run's view of a forget it did not write).
 */
export async function packUsage(
  repo: Repository,
  index: BlobIndex,
  onTree?: () => void,
  assumeRemoved: readonly string[] = [],
): Promise<PackUsage> {
  const live = new Uint8Array(Math.ceil(index.blobCount / 8));
  const mark = (id: Buffer) => {
    const at = index.position(id);
    if (at >= 0) live[at >>> 3]! |= 1 << (at & 7);
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
  for (const id of [...index.tombstones, ...assumeRemoved]) mark(Buffer.from(id, 'hex'));
  const removed = new Set(assumeRemoved);
  for (const id of visibleSnapshotIds(repo).filter((s) => !removed.has(s))) {
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
  const indexedBytes = new Float64Array(index.packs.length);
  const liveBytes = new Float64Array(index.packs.length);
  let position = 0;
  for (const page of index.recordPages()) {
    for (let at = 0; at < page.length; at += RECORD_SIZE, position++) {
      const pack = page.readUInt32LE(at + PACK_AT);
      const length = page.readUInt32LE(at + LENGTH_AT);
      indexedBytes[pack]! += length;
      if (isLive(live, position)) liveBytes[pack]! += length;
    }
  }
  return { live, indexedBytes, liveBytes };
}
