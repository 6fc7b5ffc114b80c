import { KlosetError, errorText } from '../core/errors.js';
import { decodeNode } from '../core/tree-node.js';
import { ID_SIZE } from '../crypto/mac.js';
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

function setLive(live: Uint8Array, position: number): void {
  live[position >>> 3]! |= 1 << (position & 7);
}

/** An empty bitmap for `index`: a bit per blob, 12.5 MB for 100 million. */
export function liveBitmap(index: BlobIndex): Uint8Array {
  return new Uint8Array(Math.ceil(index.blobCount / 8));
}

/**
 * IDs whose positions are looked up together: a quarter of the index's memory budget at 44 bytes
 * an ID (the ID and what `positionsOf` keeps for it), 64 Ki IDs (2.9 MB) without a budget. A
 * spilled index reads each of its pages at most once per batch; a batch of about as many IDs as
 * the index has pages reads most pages, so larger batches read fewer pages an ID.
 */
export function markBatchIds(budget: number | undefined): number {
  if (budget === undefined) return 64 * 1024;
  return Math.min(1 << 20, Math.max(4096, Math.floor(budget / 4 / (ID_SIZE + 12))));
}

export interface MarkOptions {
  /** called for every tree read */
  readonly onTree?: () => void;
  /** snapshots to count as tombstoned (a dry run's view of a forget it did not write) */
  readonly assumeRemoved?: readonly string[];
  /** asked each time a tree is marked whole: true stops the walk there (a step's deadline) */
  readonly stopping?: () => boolean;
  /** IDs looked up together (`markBatchIds`) */
  readonly batchIds: number;
}

/** Thrown through the walk to stop it: not an error. */
const STOPPED = Symbol('stopped');

/**
 * Marks in `live` the blobs the visible snapshots need, continuing the marks already there. A
 * tree's bit is set only once everything under it is marked, and a snapshot's once its whole
 * tree is: at every instant a set bit says its subtree is complete, so a walk stopped anywhere
 * (`stopping`) is continued by another that skips the subtrees whose bit is set (docs/FORMAT.md,
 * "Prune in steps"). Chunk IDs are gathered and looked up a batch at a time (`positionsOf`), in
 * the order of the index rather than of the trees. A snapshot or tree that cannot be read stops
 * the mark: what it references is unknown, so nothing may be deleted. Returns whether the walk
 * completed.
 */
export async function markLive(
  repo: Repository,
  index: BlobIndex,
  live: Uint8Array,
  opts: MarkOptions,
): Promise<boolean> {
  const batch = new MarkBatch(index, live, opts.batchIds);
  // trees the index does not hold (written after the deltas it covers): walked once per step
  const outside = new Set<string>();
  const walk = async (treeId: string): Promise<void> => {
    const id = Buffer.from(treeId, 'hex');
    const at = index.position(id);
    if (at >= 0 ? isLive(live, at) : outside.has(treeId)) return;
    opts.onTree?.();
    const node = decodeNode(await repo.loadBlob(id, BlobType.Tree), `tree ${treeId.slice(0, 12)}`);
    if (!('entries' in node)) for (const part of node.parts) await walk(part);
    else
      for (const entry of node.entries) {
        if (entry.type === 'dir') await walk(entry.subtree);
        else if (entry.type === 'file') for (const chunk of entry.chunks) batch.add(chunk);
      }
    if (at >= 0) setLive(live, at);
    else outside.add(treeId);
    if (opts.stopping?.()) throw STOPPED;
  };
  // sync reads the records of removed snapshots, not to copy them again: records stay, trees go;
  // the store's own tombstones too, for a snapshot removed since the covered deltas (between steps)
  const assumeRemoved = opts.assumeRemoved ?? [];
  for (const id of new Set([...index.tombstones, ...repo.index.tombstones, ...assumeRemoved])) batch.add(id);
  const removed = new Set(assumeRemoved);
  try {
    for (const id of visibleSnapshotIds(repo).filter((s) => !removed.has(s))) {
      const at = index.position(Buffer.from(id, 'hex'));
      if (at >= 0 && isLive(live, at)) continue;
      try {
        await walk((await loadSnapshot(repo, id)).root);
      } catch (err) {
        if (err === STOPPED) throw err;
        throw new KlosetError(
          'CORRUPT',
          `snapshot ${id.slice(0, 12)} cannot be read whole (${errorText(err)}): nothing was pruned; run kloud check and kloud repair first`,
          { cause: err },
        );
      }
      if (at >= 0) setLive(live, at);
    }
  } catch (err) {
    if (err !== STOPPED) throw err;
    batch.flush();
    return false;
  }
  batch.flush();
  return true;
}

/** Chunk IDs to mark, gathered into one buffer and looked up together when it is full. */
class MarkBatch {
  private readonly ids: Buffer;
  private count = 0;

  constructor(
    private readonly index: BlobIndex,
    private readonly live: Uint8Array,
    capacity: number,
  ) {
    this.ids = Buffer.allocUnsafe(capacity * ID_SIZE);
  }

  /** `hex`: an ID as trees and snapshot lists spell it (checked by their decoders). */
  add(hex: string): void {
    this.ids.write(hex, this.count * ID_SIZE, ID_SIZE, 'hex');
    if (++this.count * ID_SIZE === this.ids.length) this.flush();
  }

  flush(): void {
    if (this.count === 0) return;
    for (const at of this.index.positionsOf(this.ids.subarray(0, this.count * ID_SIZE)))
      if (at >= 0) setLive(this.live, at);
    this.count = 0;
  }
}

/** Live and indexed bytes per pack, in one pass over the records of `index`. */
export function packUsage(index: BlobIndex, live: Uint8Array): PackUsage {
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
