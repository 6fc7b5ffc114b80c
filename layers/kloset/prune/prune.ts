import { KlosetError } from '../core/errors.js';
import { listPacks } from '../check/unindexed-packs.js';
import { readPrunePlans, writePrunePlan } from '../repository/prune-plans.js';
import type { Repository } from '../repository/repository.js';
import { consolidateIndex } from './consolidated-index.js';
import { referencedPacks } from './referenced-packs.js';

/** Long enough for any backup to finish: a backup open for longer than this may lose blobs. */
export const DEFAULT_GRACE_MS = 24 * 3600 * 1000;

export interface PruneProgress {
  readonly phase: 'walk' | 'delete';
  /** trees walked, or packs deleted */
  readonly done: number;
  /** packs to delete (0 while walking) */
  readonly total: number;
}

export interface PruneOptions {
  /** find and report, change nothing */
  readonly dryRun?: boolean;
  /** how long a pack stays planned before it is deleted; default `DEFAULT_GRACE_MS` */
  readonly graceMs?: number;
  readonly onProgress?: (progress: PruneProgress) => void;
}

export interface PrunedPack {
  readonly name: string;
  readonly size: number;
  /** in archive storage: deleting it early may be billed for the class's minimum duration */
  readonly archived: boolean;
}

export interface PruneReport {
  /** unreferenced since a plan older than the grace period: deleted (with dryRun: would be) */
  readonly deleted: PrunedPack[];
  /** found unreferenced now: planned, deleted by a prune after the grace period */
  readonly planned: PrunedPack[];
  /** planned by an earlier run, still within the grace period */
  readonly waiting: number;
  /** bytes of the deleted packs */
  readonly freedBytes: number;
  /** index deltas replaced by the one consolidated delta (0: none written) */
  readonly deltasReplaced: number;
}

/**
 * Garbage collection in two phases, safe while other processes write (docs/FORMAT.md, "Prune"):
 * a run plans the packs no visible snapshot references; a later run, once the plan is older than
 * the grace period, deletes those still unreferenced, after writing one consolidated index delta
 * without them in place of every delta it read.
 */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneReport> {
  await repo.refreshIndex({ fromStore: true });
  if (repo.damagedDeltas.size > 0) {
    throw new KlosetError('CORRUPT', 'an index delta is damaged: nothing was pruned; run kloud repair first');
  }
  const covered = repo.indexDeltas;
  const { plans, damaged } = await readPrunePlans(repo);
  let trees = 0;
  const referenced = await referencedPacks(repo, () =>
    opts.onProgress?.({ phase: 'walk', done: ++trees, total: 0 }),
  );
  const stored = await listPacks(repo);
  const indexed = new Map(repo.index.packs.map((p, i) => [p.name, referenced[i] === 1]));
  const unreferenced = (name: string) => indexed.get(name) !== true && stored.has(name);
  const ripeBefore = Date.now() - (opts.graceMs ?? DEFAULT_GRACE_MS);
  const ripe = plans.filter((p) => Date.parse(p.createdAt) <= ripeBefore);
  const waitingPacks = new Set(plans.filter((p) => !ripe.includes(p)).flatMap((p) => p.packs));
  const deletable = new Set(ripe.flatMap((p) => p.packs).filter(unreferenced));
  const newlyPlanned = [...indexed.keys()].filter(
    (name) => unreferenced(name) && !deletable.has(name) && !waitingPacks.has(name),
  );
  const describe = (name: string): PrunedPack => {
    const info = stored.get(name)!;
    return { name, size: info.size, archived: info.archived === true };
  };
  const deleted = [...deletable].map(describe);
  const report: PruneReport = {
    deleted,
    planned: newlyPlanned.map(describe),
    waiting: waitingPacks.size,
    freedBytes: deleted.reduce((n, p) => n + p.size, 0),
    deltasReplaced: covered.length > 1 || deletable.size > 0 ? covered.length : 0,
  };
  if (opts.dryRun) return report;
  await applyPrune(repo, covered, deletable, newlyPlanned, [...ripe.map((p) => p.name), ...damaged], opts);
  return report;
}

/** In this order, so that a run stopped anywhere leaves no index entry naming a deleted pack. */
async function applyPrune(
  repo: Repository,
  covered: readonly string[],
  deletable: ReadonlySet<string>,
  newlyPlanned: readonly string[],
  consumedPlans: readonly string[],
  opts: PruneOptions,
): Promise<void> {
  if (covered.length > 1 || deletable.size > 0) await consolidateIndex(repo, covered, deletable);
  let done = 0;
  for (const name of deletable) {
    await repo.backend.delete('packs', name);
    opts.onProgress?.({ phase: 'delete', done: ++done, total: deletable.size });
  }
  if (newlyPlanned.length > 0) {
    await writePrunePlan(repo, { v: 1, createdAt: new Date().toISOString(), packs: [...newlyPlanned] });
  }
  for (const name of consumedPlans) await repo.backend.delete('plans', name);
  await repo.refreshIndex();
}
