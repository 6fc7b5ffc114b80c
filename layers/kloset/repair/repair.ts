import { type CheckProblem, check } from '../check/check.js';
import { KlosetError } from '../core/errors.js';
import { openIndexDelta } from '../index/index-delta.js';
import { RepositoryWriter } from '../repository/repository-writer.js';
import type { Repository } from '../repository/repository.js';
import { listPacks, readUnindexedPacks, unlistedSnapshots } from '../check/unindexed-packs.js';

export interface RepairProgress {
  /** reading the own index of unindexed packs, then the fast check of the result */
  readonly phase: 'unindexed packs' | 'packs' | 'snapshots';
  readonly done: number;
  readonly total: number;
}

export interface RepairOptions {
  /** find and report everything, write and remove nothing */
  dryRun?: boolean;
  /** check the result reading every pack (finds damage inside blobs too), not only the metadata */
  readData?: boolean;
  onProgress?: (p: RepairProgress) => void;
}

export interface RepairReport {
  readonly dryRun: boolean;
  /** index deltas that could not be read; removed once the new delta lists what can be recovered */
  readonly damagedDeltas: { name: string; reason: string }[];
  /** packs no readable delta listed, whose own index the new delta copies */
  readonly adoptedPacks: string[];
  /** blobs the new delta makes readable again */
  readonly recoveredBlobs: number;
  /** snapshots listed again: their records sat only in adopted packs */
  readonly recoveredSnapshots: { id: string; time: string; sources: string[] }[];
  /** snapshot records found in adopted packs that cannot be read */
  readonly unreadableSnapshots: { id: string; reason: string }[];
  /** packs no readable delta lists whose own index cannot be read: what they hold is lost */
  readonly unreadablePacks: { name: string; reason: string }[];
  /** unindexed packs in archive storage: not read (their index needs a retrieval) */
  readonly archivedPacks: number;
  /** the index delta written (absent on a dry run, or when there was nothing to list) */
  readonly newDelta?: string;
  /**
   * What is still damaged after the repair (a fast check): snapshots whose data is gone, with
   * their affected paths. Absent on a dry run.
   */
  readonly remaining?: CheckProblem[];
}

/**
 * Rebuilds what damaged or missing index deltas hid, from the packs themselves: every pack ends
 * with its own index, so a new delta listing the packs no readable delta lists (and the snapshot
 * records they hold) brings back every blob that is still intact. Existing objects are never
 * modified; the only ones removed are damaged deltas, once the new delta is written (see
 * docs/FORMAT.md, "Recovery").
 */
export async function repair(repo: Repository, opts: RepairOptions = {}): Promise<RepairReport> {
  const dryRun = opts.dryRun === true;
  await repo.refreshIndex({ fromStore: true });
  const damagedDeltas = [...repo.damagedDeltas].map(([name, reason]) => ({ name, reason }));
  const unindexed = await readUnindexedPacks(repo, (await listPacks(repo)).values(), (done, total) =>
    opts.onProgress?.({ phase: 'unindexed packs', done, total }),
  );
  const found = await unlistedSnapshots(repo, unindexed.readable, { indexed: damagedDeltas.length > 0 });
  const recovered = found.flatMap((f) => ('record' in f ? [f.record] : []));

  const writer = new RepositoryWriter(repo, { dryRun });
  const newBlobs = new Set<string>();
  for (const { pack, blobs } of unindexed.readable) {
    for (const b of blobs) if (!repo.index.has(b.id)) newBlobs.add(b.id.toString('latin1'));
    writer.adoptPack(pack, blobs);
  }
  const delta = await writer.commit({ snapshots: recovered.map((r) => r.id) });
  let remaining: CheckProblem[] | undefined;
  if (!dryRun) {
    for (const { name } of damagedDeltas) await removeIfDamaged(repo, name);
    await repo.refreshIndex({ fromStore: true });
    remaining = (await check(repo, { readData: opts.readData, onProgress: opts.onProgress })).problems;
  }
  return {
    dryRun,
    damagedDeltas,
    adoptedPacks: unindexed.readable.map((u) => u.pack.name),
    recoveredBlobs: newBlobs.size,
    recoveredSnapshots: recovered.map((r) => ({ id: r.id, time: r.time, sources: r.sources })),
    unreadableSnapshots: found.flatMap((f) => ('reason' in f ? [{ id: f.id, reason: f.reason }] : [])),
    unreadablePacks: unindexed.unreadable,
    archivedPacks: unindexed.archived.length,
    ...(delta !== undefined && !dryRun && { newDelta: delta }),
    ...(remaining && { remaining }),
  };
}

/**
 * A damaged delta cannot be authenticated, so nothing in it can be used, and once the new delta
 * lists every intact pack it only makes every reader warn: it goes. It is read again first, so
 * that only a delta that is damaged now, not one a flaky read made look so, is removed.
 */
async function removeIfDamaged(repo: Repository, name: string): Promise<void> {
  try {
    await openIndexDelta(await repo.backend.get('index', name), name, repo.cipher, repo.mac.authenticator);
    return;
  } catch (err) {
    if (!(err instanceof KlosetError) || err.code !== 'CORRUPT') throw err;
  }
  await repo.backend.delete('index', name);
}
