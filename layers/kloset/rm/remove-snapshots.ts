import { KlosetError } from '../core/errors.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { readSnapshots, resolveRef } from '../snapshot/snapshot-list.js';
import type { SnapshotRecord } from '../snapshot/snapshot-record.js';

export interface RemoveSelection {
  /** snapshot references (IDs, prefixes, `latest`) */
  refs?: string[];
  /** every snapshot taken before this time */
  olderThan?: Date;
  /** every snapshot with this tag */
  tag?: string;
  /** select and report, write nothing */
  dryRun?: boolean;
}

/**
 * Removes snapshots by writing one index delta of tombstones: instant, and safe while other
 * writers run, since nothing is deleted. The space is reclaimed later by garbage collection.
 */
export async function removeSnapshots(repo: Repository, sel: RemoveSelection): Promise<SnapshotRecord[]> {
  const listing = await readSnapshots(repo);
  const all = listing.snapshots;
  const chosen = new Map<string, SnapshotRecord>();
  for (const ref of sel.refs ?? []) {
    const s = resolveRef(repo, listing, ref);
    chosen.set(s.id, s);
  }
  const filters = sel.olderThan !== undefined || sel.tag !== undefined;
  if (filters) {
    for (const s of all) {
      if (sel.olderThan && new Date(s.time) >= sel.olderThan) continue;
      if (sel.tag && !s.tags.includes(sel.tag)) continue;
      chosen.set(s.id, s);
    }
  }
  if (!filters && (sel.refs ?? []).length === 0) {
    throw new KlosetError('INVALID_ARGUMENT', 'say which snapshots to remove: IDs, an age or a tag');
  }
  const removed = [...chosen.values()];
  if (removed.length > 0 && !sel.dryRun) {
    await new RepositoryWriter(repo).commit({ tombstones: removed.map((s) => s.id) });
    await repo.refreshIndex();
  }
  return removed;
}
