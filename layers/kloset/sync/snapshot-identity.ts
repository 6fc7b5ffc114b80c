import { mapLimit } from '../core/concurrency.js';
import { KlosetError } from '../core/errors.js';
import type { Repository } from '../repository/repository.js';
import { loadSnapshot, loadSnapshots } from '../snapshot/snapshot-list.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';

/**
 * Which snapshot a record is, whatever store holds it: snapshot IDs are MACs under each store's
 * key, so a copy gets a new ID and keeps the original's identity in its `origin` field.
 */
export function snapshotIdentity(storeId: string, snapshot: SnapshotRecord): string {
  return snapshot.origin ?? `${storeId}:${snapshot.id}`;
}

/** The snapshots a store has, and those it had and removed, by identity. */
export interface KnownSnapshots {
  readonly visible: Map<string, SnapshotRecord>;
  readonly removed: ReadonlySet<string>;
}

/**
 * What a sync must not copy again. Removed snapshots count too: a snapshot removed from a store
 * (by a retention policy, say) is not brought back by the next sync.
 */
export async function knownSnapshots(repo: Repository): Promise<KnownSnapshots> {
  const { storeId } = repo.config;
  const visible = new Map((await loadSnapshots(repo)).map((s) => [snapshotIdentity(storeId, s), s]));
  const removed = await mapLimit(repo.index.tombstones, 16, async (id) => {
    try {
      return snapshotIdentity(storeId, await loadSnapshot(repo, id));
    } catch (err) {
      // its record is gone or damaged: nothing to recognise it by (check reports the damage)
      if (err instanceof KlosetError && err.code === 'CORRUPT') return undefined;
      throw err;
    }
  });
  return { visible, removed: new Set(removed.filter((i) => i !== undefined)) };
}
