import { KlosetError } from '../core/errors.js';
import type { ObjectInfo } from '../core/store-backend.js';
import { listPacks } from '../check/unindexed-packs.js';
import type { BlobIndex } from '../index/blob-index.js';
import { plannedPacks, readPrunePlans, writePrunePlan } from '../repository/prune-plans.js';
import type { Repository } from '../repository/repository.js';
import { consolidateIndex } from './consolidated-index.js';
import { type EarlyDeletion, earlyDeletion } from './early-deletion.js';
import { type PackUsage, packUsage } from './pack-usage.js';
import { buildPruneIndex } from './prune-index.js';
import { repackPacks } from './repack.js';
import { DEFAULT_GRACE_MS, DEFAULT_REPACK_THRESHOLD } from './prune-defaults.js';

export { DEFAULT_GRACE_MS, DEFAULT_REPACK_THRESHOLD };

export interface PruneProgress {
  readonly phase: 'walk' | 'repack' | 'delete';
  /** trees walked, packs repacked, or packs deleted */
  readonly done: number;
  /** packs to repack or delete (0 while walking) */
  readonly total: number;
}

export interface PruneOptions {
  /** find and report, change nothing */
  readonly dryRun?: boolean;
  /** how long a pack stays planned before it is deleted; default `DEFAULT_GRACE_MS` */
  readonly graceMs?: number;
  /** the unused share (0–1) from which a pack is rewritten; default `DEFAULT_REPACK_THRESHOLD`, 1: never */
  readonly repackThreshold?: number;
  /** at most this many bytes of packs rewritten in one run; default: no limit */
  readonly maxRepackBytes?: number;
  readonly onProgress?: (progress: PruneProgress) => void;
}

export interface PrunedPack {
  readonly name: string;
  readonly size: number;
  /** in archive storage: never rewritten, and deleting it early may be billed */
  readonly archived: boolean;
  /** an archived pack younger than its class's minimum storage duration: the charge of deleting it now */
  readonly earlyDeletion?: EarlyDeletion;
}

export interface RepackedPack extends PrunedPack {
  /** bytes of its blobs still used, copied into new packs */
  readonly liveBytes: number;
}

export interface PruneReport {
  /** unreferenced since a plan older than the grace period: deleted (with dryRun: would be) */
  readonly deleted: PrunedPack[];
  /** found unreferenced now: planned, deleted by a prune after the grace period */
  readonly planned: PrunedPack[];
  /** mostly unused: their live blobs copied into new packs, the packs planned (with dryRun: would be) */
  readonly repacked: RepackedPack[];
  /** the packs the repack wrote (0 with dryRun) */
  readonly packsWritten: number;
  /** planned by an earlier run, still within the grace period */
  readonly waiting: number;
  /** bytes of the deleted packs */
  readonly freedBytes: number;
  /** what deleting the archived packs among `deleted` is billed for their minimum storage duration */
  readonly earlyDeletionUsd: number;
  /** index deltas replaced by the consolidated ones (0: none written) */
  readonly deltasReplaced: number;
}

/** What one run found: the report, and what applying it needs. */
interface PruneDecision {
  readonly report: PruneReport;
  readonly deletable: ReadonlySet<string>;
  readonly rewrite: ReadonlySet<number>;
  readonly consumedPlans: readonly string[];
}

/**
 * Garbage collection in two phases, safe while other processes write (docs/FORMAT.md, "Prune"):
 * a run plans the packs no visible snapshot uses and rewrites the live blobs of mostly unused
 * packs into new ones, planning the old; a later run, once the plan is older than the grace
 * period, deletes those still unused, after writing consolidated index deltas without them in
 * place of every delta it read. The index is read within the store's memory budget.
 */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneReport> {
  await repo.refreshIndex({ fromStore: true });
  if (repo.damagedDeltas.size > 0) {
    throw new KlosetError('CORRUPT', 'an index delta is damaged: nothing was pruned; run kloud repair first');
  }
  const covered = repo.indexDeltas;
  const { plans, damaged } = await readPrunePlans(repo);
  const index = await buildPruneIndex(repo, covered, plannedPacks(plans));
  try {
    let trees = 0;
    const usage = await packUsage(repo, index, () =>
      opts.onProgress?.({ phase: 'walk', done: ++trees, total: 0 }),
    );
    const stored = await listPacks(repo);
    const ripeBefore = Date.now() - (opts.graceMs ?? DEFAULT_GRACE_MS);
    const ripe = plans.filter((p) => Date.parse(p.createdAt) <= ripeBefore);
    const decision = decide(index, usage, stored, {
      ripe: ripe.flatMap((p) => p.packs),
      waiting: plans.filter((p) => !ripe.includes(p)).flatMap((p) => p.packs),
      consumedPlans: [...ripe.map((p) => p.name), ...damaged],
      threshold: opts.repackThreshold ?? DEFAULT_REPACK_THRESHOLD,
      maxRepackBytes: opts.maxRepackBytes ?? Number.POSITIVE_INFINITY,
      coveredDeltas: covered.length,
    });
    if (opts.dryRun) return decision.report;
    return await applyPrune(repo, covered, index, usage, decision, opts);
  } finally {
    index.close();
  }
}

function decide(
  index: BlobIndex,
  usage: PackUsage,
  stored: ReadonlyMap<string, ObjectInfo>,
  plans: {
    ripe: readonly string[];
    waiting: readonly string[];
    consumedPlans: readonly string[];
    threshold: number;
    maxRepackBytes: number;
    coveredDeltas: number;
  },
): PruneDecision {
  const now = Date.now();
  const packNo = new Map(index.packs.map((p, i) => [p.name, i]));
  const waiting = new Set(plans.waiting);
  // a planned pack no longer indexed (a run stopped after consolidating) is unused too
  const unused = (name: string) => {
    const i = packNo.get(name);
    return (i === undefined || usage.liveBytes[i] === 0) && stored.has(name);
  };
  const describe = (name: string): PrunedPack => {
    const info = stored.get(name)!;
    const charge = earlyDeletion(info, now);
    return {
      name,
      size: info.size,
      archived: info.archived === true,
      ...(charge && { earlyDeletion: charge }),
    };
  };
  const deletable = new Set(plans.ripe.filter(unused));
  const isPlanned = (name: string) => deletable.has(name) || waiting.has(name) || plans.ripe.includes(name);
  const planned = index.packs.map((p) => p.name).filter((name) => unused(name) && !isPlanned(name));
  // archived packs are never rewritten: reading them needs a retrieval
  const candidates = index.packs
    .map((p, i) => ({ p, i, share: 1 - usage.liveBytes[i]! / usage.indexedBytes[i]! }))
    .filter(
      ({ p, i, share }) =>
        usage.liveBytes[i]! > 0 &&
        share >= plans.threshold &&
        stored.has(p.name) &&
        stored.get(p.name)!.archived !== true &&
        !isPlanned(p.name),
    )
    .sort((a, b) => b.share - a.share);
  const rewrite = new Set<number>();
  let repackBytes = 0;
  for (const { p, i } of candidates) {
    if (repackBytes + p.size > plans.maxRepackBytes) continue;
    repackBytes += p.size;
    rewrite.add(i);
  }
  const deleted = [...deletable].map(describe);
  return {
    report: {
      deleted,
      planned: planned.map(describe),
      repacked: [...rewrite].map((i) => ({
        ...describe(index.packs[i]!.name),
        liveBytes: usage.liveBytes[i]!,
      })),
      packsWritten: 0,
      waiting: waiting.size,
      freedBytes: deleted.reduce((n, p) => n + p.size, 0),
      earlyDeletionUsd: deleted.reduce((n, p) => n + (p.earlyDeletion?.usd ?? 0), 0),
      deltasReplaced: plans.coveredDeltas > 1 || deletable.size > 0 ? plans.coveredDeltas : 0,
    },
    deletable,
    rewrite,
    consumedPlans: plans.consumedPlans,
  };
}

/**
 * In this order, so that a run stopped anywhere leaves no index entry naming a deleted pack, and
 * no pack planned before the delta that locates its live blobs elsewhere is written.
 */
async function applyPrune(
  repo: Repository,
  covered: readonly string[],
  index: BlobIndex,
  usage: PackUsage,
  decision: PruneDecision,
  opts: PruneOptions,
): Promise<PruneReport> {
  const { report, deletable, rewrite } = decision;
  let done = 0;
  const repacked = await repackPacks(repo, index, usage.live, rewrite, () =>
    opts.onProgress?.({ phase: 'repack', done: ++done, total: rewrite.size }),
  );
  if (report.deltasReplaced > 0) await consolidateIndex(repo, covered, index, deletable);
  done = 0;
  for (const name of deletable) {
    await repo.backend.delete('packs', name);
    opts.onProgress?.({ phase: 'delete', done: ++done, total: deletable.size });
  }
  const toPlan = [...report.planned, ...report.repacked].map((p) => p.name);
  if (toPlan.length > 0) {
    await writePrunePlan(repo, { v: 1, createdAt: new Date().toISOString(), packs: toPlan });
  }
  for (const name of decision.consumedPlans) await repo.backend.delete('plans', name);
  await repo.refreshIndex();
  return { ...report, packsWritten: repacked.packs.length };
}
