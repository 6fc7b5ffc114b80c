import { mapLimit } from '../core/concurrency.js';
import { KlosetError, corrupt } from '../core/errors.js';
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

export interface UnreadableSnapshot {
  readonly id: string;
  /** why its record cannot be read */
  readonly reason: string;
}

/** The visible snapshots whose records read, newest first, and those whose records do not. */
export interface SnapshotListing {
  readonly snapshots: SnapshotRecord[];
  readonly unreadable: UnreadableSnapshot[];
}

/** Reads every visible snapshot record; a damaged one is set aside, so it hides no other. */
export async function readSnapshots(repo: Repository): Promise<SnapshotListing> {
  const unreadable: UnreadableSnapshot[] = [];
  const records = await mapLimit(visibleSnapshotIds(repo), 16, async (id) => {
    try {
      return await loadSnapshot(repo, id);
    } catch (err) {
      if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
      unreadable.push({ id, reason: err.message });
      return undefined;
    }
  });
  return {
    snapshots: newestFirst(records.filter((r): r is SnapshotRecord => r !== undefined)),
    unreadable: unreadable.sort((a, b) => a.id.localeCompare(b.id)),
  };
}

/**
 * One line, for people, for each thing a listing left out: each damaged index delta (it may hide
 * snapshots) and each unreadable snapshot record.
 */
export function listingProblems(repo: Repository, listing: SnapshotListing): string[] {
  const deltas = [...repo.damagedDeltas.values()].map(
    (reason) => `${reason}: the snapshots and data it lists may be missing (kloud repair rebuilds the index)`,
  );
  return [...deltas, ...listing.unreadable.map((u) => `snapshot ${u.id.slice(0, 12)}: ${u.reason}`)];
}

/**
 * `resolveSnapshotRef` over a listing of `repo`, aware of damage: a ref naming an unreadable
 * record, or naming nothing while a damaged index delta may hide it, fails as CORRUPT with the
 * reason rather than as "no snapshot".
 */
export function resolveRef(repo: Repository, listing: SnapshotListing, ref: string): SnapshotRecord {
  try {
    return resolveSnapshotRef(listing.snapshots, ref, listing.unreadable);
  } catch (err) {
    const [hiding] = repo.damagedDeltas.values();
    if (!(err instanceof KlosetError) || err.code !== 'SNAPSHOT_NOT_FOUND' || hiding === undefined) throw err;
    throw corrupt(
      `${err.message}: ${hiding}, and the snapshots it lists cannot be found (kloud repair lists them again)`,
    );
  }
}

/** The visible snapshots whose records read, newest first (`readSnapshots` also says which did not). */
export async function loadSnapshots(repo: Repository): Promise<SnapshotRecord[]> {
  return (await readSnapshots(repo)).snapshots;
}

/**
 * `latest` (the newest readable), a full ID, or a unique ID prefix (at least 4 hex digits). A ref
 * that names only an unreadable snapshot fails as CORRUPT with the reason, not as "no snapshot".
 */
export function resolveSnapshotRef(
  records: readonly SnapshotRecord[],
  ref: string,
  unreadable: readonly UnreadableSnapshot[] = [],
): SnapshotRecord {
  if (records.length === 0 && unreadable.length === 0)
    throw new KlosetError('SNAPSHOT_NOT_FOUND', 'the store has no snapshots yet');
  if (ref === 'latest' && records.length === 0)
    throw corrupt(`no snapshot record of the store can be read (${unreadable[0]!.reason})`);
  if (ref === 'latest') return records[0]!;
  const wanted = ref.toLowerCase();
  if (!/^[0-9a-f]{4,64}$/.test(wanted)) {
    throw new KlosetError(
      'INVALID_ARGUMENT',
      `"${ref}" is not a snapshot ID, prefix (4+ hex digits) or "latest"`,
    );
  }
  const matches = records.filter((r) => r.id.startsWith(wanted));
  const damaged = unreadable.filter((u) => u.id.startsWith(wanted));
  if (matches.length === 0 && damaged.length === 1)
    throw corrupt(`snapshot ${damaged[0]!.id.slice(0, 12)} cannot be read: ${damaged[0]!.reason}`);
  if (matches.length === 0 && damaged.length === 0)
    throw new KlosetError('SNAPSHOT_NOT_FOUND', `no snapshot ${ref}`);
  if (matches.length + damaged.length > 1) {
    throw new KlosetError(
      'AMBIGUOUS_SNAPSHOT',
      `snapshot prefix ${ref} matches ${matches.length + damaged.length} snapshots; give more digits`,
    );
  }
  return matches[0]!;
}
