import { mapLimit } from '../core/concurrency.js';
import { KlosetError } from '../core/errors.js';
import { BlobType } from '../format/blob.js';
import type { Repository } from '../repository/repository.js';
import { type SnapshotRecord, decodeSnapshot } from './snapshot-record.js';

/** IDs of the visible snapshots: named by an index delta and not tombstoned. */
export function visibleSnapshotIds(repo: Repository): string[] {
  const removed = new Set(repo.index.tombstones);
  return repo.index.snapshots.filter((id) => !removed.has(id));
}

export async function loadSnapshot(repo: Repository, id: string): Promise<SnapshotRecord> {
  return decodeSnapshot(id, await repo.loadBlob(Buffer.from(id, 'hex'), BlobType.Snapshot));
}

export function newestFirst(records: SnapshotRecord[]): SnapshotRecord[] {
  return records.sort((a, b) => b.time.localeCompare(a.time) || a.id.localeCompare(b.id));
}

/** The visible snapshots, newest first. */
export async function loadSnapshots(repo: Repository): Promise<SnapshotRecord[]> {
  return newestFirst(await mapLimit(visibleSnapshotIds(repo), 16, (id) => loadSnapshot(repo, id)));
}

/** `latest`, a full ID, or a unique ID prefix (at least 4 hex digits). */
export function resolveSnapshotRef(records: readonly SnapshotRecord[], ref: string): SnapshotRecord {
  if (records.length === 0) throw new KlosetError('SNAPSHOT_NOT_FOUND', 'the store has no snapshots yet');
  if (ref === 'latest') return records[0]!;
  const wanted = ref.toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(wanted)) {
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `"${ref}" is not a snapshot ID, prefix (4+ hex digits) or "latest"`,
    );
  }
  const matches = records.filter((r) => r.id.startsWith(wanted));
  if (matches.length === 0) throw new KlosetError('SNAPSHOT_NOT_FOUND', `no snapshot ${ref}`);
  if (matches.length > 1) {
    throw new KlosetError(
      'AMBIGUOUS_SNAPSHOT',
      `snapshot prefix ${ref} matches ${matches.length} snapshots; give more digits`,
    );
  }
  return matches[0]!;
}
