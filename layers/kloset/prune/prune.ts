import { KlosetError } from '../core/errors.js';
import type { ObjectInfo } from '../core/store-backend.js';
import { listPacks } from '../check/unindexed-packs.js';
import type { BlobIndex } from '../index/blob-index.js';
import { plannedPacks, readPrunePlans, writePrunePlan } from '../repository/prune-plans.js';
import type { Repository } from '../repository/repository.js';
import { consolidateIndex } from './consolidated-index.js';
import { type EarlyDeletion, earlyDeletion } from './early-deletion.js';
import {
  loadMarkState,
  MARK_STATE_NAME,
  type MarkState,
  type PruneScratch,
  saveMarkState,
} from './mark-state.js';
import { liveBitmap, markBatchIds, markLive, type PackUsage, packUsage } from './pack-usage.js';
import { buildPruneIndex } from './prune-index.js';
import { repackPacks } from './repack.js';
import { DEFAULT_GRACE_MS, DEFAULT_REPACK_THRESHOLD } from './prune-defaults.js';

export { DEFAULT_GRACE_MS, DEFAULT_REPACK_THRESHOLD, type PruneScratch };

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
  /**
   * with `dryRun`: snapshots to judge as if removed (a dry `forget` just chose them), so the
   * report says what forgetting them and pruning would free
   */
  readonly assumeRemoved?: readonly string[];
  readonly onProgress?: (progress: PruneProgress) => void;
}

/** Where a prune run stands between steps: small JSON, kept by the caller (a task's item). */
export interface PruneCheckpoint {
  readonly v: 1;
  /** epoch ms the run began: the plans it writes are never ripe within it */
  readonly startedAt: number;
  /** bytes of packs rewritten so far, against `maxRepackBytes` */
  readonly repackedBytes: number;
  /** the covered deltas were replaced by consolidated ones in an earlier step */
  readonly consolidated: boolean;
  /** SHA-256 (hex) of the mark state saved in the scratch place: the only one the next step resumes */
  readonly mark?: string;
}

export interface PruneStepOptions extends PruneOptions {
  /** the checkpoint the previous step returned; none on the first */
  readonly checkpoint?: PruneCheckpoint;
  /** epoch ms: start no new unit of work after it (each step does at least one); default: none */
  readonly deadline?: number;
  /** aborted: stop at the next unit boundary, as at the deadline */
  readonly signal?: AbortSignal;
  /**
   * where the mark is kept between steps: with one, the mark too stops at the deadline (after a
   * tree marked whole) and the next step continues it; without, each step marks in one go
   */
  readonly scratch?: PruneScratch;
}

/** One step's outcome: its report covers what this step did (`mergePruneReports` adds steps up). */
export type PruneStep =
  | { readonly done: false; readonly checkpoint: PruneCheckpoint; readonly report: PruneReport }
  | { readonly done: true; readonly report: PruneReport };

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

/** The report of a run made of steps `a` then `b`. */
export function mergePruneReports(a: PruneReport, b: PruneReport): PruneReport {
  return {
    deleted: [...a.deleted, ...b.deleted],
    planned: [...a.planned, ...b.planned],
    repacked: [...a.repacked, ...b.repacked],
    packsWritten: a.packsWritten + b.packsWritten,
    // the same plans, seen again by the later step
    waiting: b.waiting,
    freedBytes: a.freedBytes + b.freedBytes,
    earlyDeletionUsd: a.earlyDeletionUsd + b.earlyDeletionUsd,
    deltasReplaced: a.deltasReplaced + b.deltasReplaced,
  };
}

/** What one step found: the report, and what applying it needs. */
interface PruneDecision {
  readonly report: PruneReport;
  readonly deletable: ReadonlySet<string>;
  /** pack numbers of the prune index, the most unused first */
  readonly rewrite: readonly number[];
  readonly consumedPlans: readonly string[];
  /** some deletable pack is still indexed: consolidate before deleting, whatever the checkpoint says */
  readonly mustConsolidate: boolean;
}

/**
 * Garbage collection in two phases, safe while other processes write (docs/FORMAT.md, "Prune"):
 * a run plans the packs no visible snapshot uses and rewrites the live blobs of mostly unused
 * packs into new ones, planning the old; a later run, once the plan is older than the grace
 * period, deletes those still unused, after writing consolidated index deltas without them in
 * place of every delta it read. The index is read within the store's memory budget. One run is
 * one loop over `pruneStep` without a deadline: a single step.
 */
export async function prune(repo: Repository, opts: PruneOptions = {}): Promise<PruneReport> {
  let checkpoint: PruneCheckpoint | undefined;
  let report: PruneReport | undefined;
  for (;;) {
    const step = await pruneStep(repo, { ...opts, ...(checkpoint && { checkpoint }) });
    report = report ? mergePruneReports(report, step.report) : step.report;
    if (step.done) return report;
    checkpoint = step.checkpoint;
  }
}

/**
 * One step of a prune run that may span several processes (a Lambda's 15 minutes each): it marks
 * (continuing the mark the checkpoint names, when there is a scratch place), then applies units of
 * work (plan, a repack of about one pack's worth, consolidate, a pack deleted, the plans consumed)
 * until the deadline, at least one. Each unit leaves the store as a run stopped there would, and
 * its effect is in the store, so the next step's mark finds what is left to do; the checkpoint
 * only carries what the store cannot say (docs/FORMAT.md, "Prune in steps").
 */
export async function pruneStep(repo: Repository, opts: PruneStepOptions = {}): Promise<PruneStep> {
  const checkpoint: PruneCheckpoint = opts.checkpoint ?? {
    v: 1,
    startedAt: Date.now(),
    repackedBytes: 0,
    consolidated: false,
  };
  await repo.refreshIndex({ fromStore: true });
  if (repo.damagedDeltas.size > 0) {
    throw new KlosetError('CORRUPT', 'an index delta is damaged: nothing was pruned; run kloud repair first');
  }
  const scratch = opts.dryRun ? undefined : opts.scratch;
  const resumed = await resumableMark(repo, scratch, checkpoint);
  const covered = resumed?.covered ?? repo.indexDeltas;
  const { plans, damaged } = await readPrunePlans(repo);
  const index = await buildPruneIndex(repo, covered, plannedPacks(plans));
  try {
    const fresh = liveBitmap(index);
    // the same deltas merge to the same blobs: a bitmap of another length is not this index's
    const live = resumed?.live.length === fresh.length ? resumed.live : fresh;
    const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
    const pastDeadline = () => Date.now() >= deadline || opts.signal?.aborted === true;
    let trees = 0;
    const marked = await markLive(repo, index, live, {
      onTree: () => opts.onProgress?.({ phase: 'walk', done: ++trees, total: 0 }),
      ...(opts.dryRun && opts.assumeRemoved && { assumeRemoved: opts.assumeRemoved }),
      ...(scratch && { stopping: pastDeadline }),
      batchIds: markBatchIds(repo.indexSpill?.budget),
    });
    const keepMark = async (state: PruneCheckpoint): Promise<PruneCheckpoint> => ({
      ...state,
      mark: await saveMarkState(repo, scratch!, state.startedAt, { covered, live }),
    });
    if (!marked) return { done: false, checkpoint: await keepMark(checkpoint), report: emptyReport() };
    const usage = packUsage(index, live);
    const stored = await listPacks(repo);
    const ripeBefore = Date.now() - (opts.graceMs ?? DEFAULT_GRACE_MS);
    // a plan this run wrote is never ripe within it, whatever the grace period
    const isRipe = (createdAt: string) =>
      Date.parse(createdAt) <= ripeBefore && Date.parse(createdAt) < checkpoint.startedAt;
    const ripe = plans.filter((p) => isRipe(p.createdAt));
    const waiting = plans.filter((p) => !ripe.includes(p));
    const decision = decide(index, usage, stored, {
      ripe: ripe.flatMap((p) => p.packs),
      waiting: waiting.flatMap((p) => p.packs),
      waitingBefore: waiting
        .filter((p) => Date.parse(p.createdAt) < checkpoint.startedAt)
        .flatMap((p) => p.packs),
      consumedPlans: [...ripe.map((p) => p.name), ...damaged],
      threshold: opts.repackThreshold ?? DEFAULT_REPACK_THRESHOLD,
      maxRepackBytes: (opts.maxRepackBytes ?? Number.POSITIVE_INFINITY) - checkpoint.repackedBytes,
      coveredDeltas: covered.length,
      consolidated: checkpoint.consolidated,
    });
    if (opts.dryRun) return { done: true, report: decision.report };
    const step = await applyPrune(repo, covered, index, usage, decision, checkpoint, opts);
    if (!scratch) return step;
    if (step.done) {
      await scratch.remove(MARK_STATE_NAME);
      return step;
    }
    // a mark of the deltas just consolidated away is of no use: the next step marks afresh
    if (step.report.deltasReplaced === 0) return { ...step, checkpoint: await keepMark(step.checkpoint) };
    const { v, startedAt, repackedBytes, consolidated } = step.checkpoint;
    return { ...step, checkpoint: { v, startedAt, repackedBytes, consolidated } };
  } finally {
    index.close();
  }
}

/**
 * The mark the checkpoint names, if the scratch place holds it intact and every delta it covers
 * is still in the store (a consolidation removes them); otherwise none: the step marks afresh.
 */
async function resumableMark(
  repo: Repository,
  scratch: PruneScratch | undefined,
  checkpoint: PruneCheckpoint,
): Promise<MarkState | undefined> {
  if (!scratch || checkpoint.mark === undefined) return undefined;
  const state = await loadMarkState(repo, scratch, checkpoint.startedAt, checkpoint.mark);
  const present = new Set(repo.indexDeltas);
  return state?.covered.every((name) => present.has(name)) ? state : undefined;
}

function emptyReport(): PruneReport {
  return {
    deleted: [],
    planned: [],
    repacked: [],
    packsWritten: 0,
    waiting: 0,
    freedBytes: 0,
    earlyDeletionUsd: 0,
    deltasReplaced: 0,
  };
}

function decide(
  index: BlobIndex,
  usage: PackUsage,
  stored: ReadonlyMap<string, ObjectInfo>,
  plans: {
    ripe: readonly string[];
    waiting: readonly string[];
    /** the waiting packs planned before this run began (what the report counts) */
    waitingBefore: readonly string[];
    consumedPlans: readonly string[];
    threshold: number;
    maxRepackBytes: number;
    coveredDeltas: number;
    /** an earlier step of this run consolidated */
    consolidated: boolean;
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
  const rewrite: number[] = [];
  let repackBytes = 0;
  for (const { p, i } of candidates) {
    if (repackBytes + p.size > plans.maxRepackBytes) continue;
    repackBytes += p.size;
    rewrite.push(i);
  }
  const deleted = [...deletable].map(describe);
  const mustConsolidate = [...deletable].some((name) => packNo.has(name));
  const consolidate = mustConsolidate || (!plans.consolidated && plans.coveredDeltas > 1);
  return {
    report: {
      deleted,
      planned: planned.map(describe),
      repacked: rewrite.map((i) => ({
        ...describe(index.packs[i]!.name),
        liveBytes: usage.liveBytes[i]!,
      })),
      packsWritten: 0,
      waiting: new Set(plans.waitingBefore).size,
      freedBytes: deleted.reduce((n, p) => n + p.size, 0),
      earlyDeletionUsd: deleted.reduce((n, p) => n + (p.earlyDeletion?.usd ?? 0), 0),
      deltasReplaced: consolidate ? plans.coveredDeltas : 0,
    },
    deletable,
    rewrite,
    consumedPlans: plans.consumedPlans,
    mustConsolidate,
  };
}

/**
 * The units of one step, in this order, so that a step stopped between any two (or a process
 * killed inside one) leaves no index entry naming a deleted pack, and no pack planned before the
 * delta that locates its live blobs elsewhere is written.
 */
async function applyPrune(
  repo: Repository,
  covered: readonly string[],
  index: BlobIndex,
  usage: PackUsage,
  decision: PruneDecision,
  checkpoint: PruneCheckpoint,
  opts: PruneStepOptions,
): Promise<PruneStep> {
  const { report, deletable, rewrite } = decision;
  const deadline = opts.deadline ?? Number.POSITIVE_INFINITY;
  let state = checkpoint;
  let units = 0;
  // at least one unit per step, so that a run always advances
  const stopping = () => units > 0 && (Date.now() >= deadline || opts.signal?.aborted === true);
  const did: { -readonly [K in keyof PruneReport]: PruneReport[K] } = {
    ...report,
    deleted: [],
    planned: [],
    repacked: [],
    freedBytes: 0,
    earlyDeletionUsd: 0,
    deltasReplaced: 0,
  };
  const stopped = (): PruneStep => ({ done: false, checkpoint: state, report: did });

  if (report.planned.length > 0) {
    await planPacks(repo, report.planned);
    did.planned.push(...report.planned);
    units++;
  }
  const repackedPack = new Map(rewrite.map((packNo, k) => [packNo, report.repacked[k]!]));
  const bounded = opts.deadline !== undefined || opts.signal !== undefined;
  let repackedPacks = 0;
  for (const unit of repackUnits(rewrite, usage, bounded ? repo.config.packing.targetSize : Infinity)) {
    if (stopping()) return stopped();
    const written = await repackPacks(repo, index, usage.live, new Set(unit), () =>
      opts.onProgress?.({ phase: 'repack', done: ++repackedPacks, total: rewrite.length }),
    );
    const repacked = unit.map((packNo) => repackedPack.get(packNo)!);
    // after the delta that locates their live blobs in the new packs
    await planPacks(repo, repacked);
    did.repacked.push(...repacked);
    did.packsWritten += written.packs.length;
    state = { ...state, repackedBytes: state.repackedBytes + repacked.reduce((n, p) => n + p.size, 0) };
    units++;
  }
  if (report.deltasReplaced > 0) {
    if (stopping()) return stopped();
    // a step killed inside the consolidation leaves new deltas beside the covered ones: the mark
    // of the covered ones alone must not be resumed then (the new ones would stay, naming packs
    // the retry deletes), so it goes first and the retry marks afresh over every delta
    await opts.scratch?.remove(MARK_STATE_NAME);
    await consolidateIndex(repo, covered, index, deletable);
    did.deltasReplaced = report.deltasReplaced;
    state = { ...state, consolidated: true };
    units++;
  }
  for (const pack of report.deleted) {
    if (stopping()) return stopped();
    await repo.backend.delete('packs', pack.name);
    did.deleted.push(pack);
    did.freedBytes += pack.size;
    did.earlyDeletionUsd += pack.earlyDeletion?.usd ?? 0;
    units++;
    opts.onProgress?.({ phase: 'delete', done: did.deleted.length, total: deletable.size });
  }
  // last: a run stopped before this finds the plans still ripe, and deletes what they have left
  for (const name of decision.consumedPlans) await repo.backend.delete('plans', name);
  await repo.refreshIndex();
  return { done: true, report: did };
}

async function planPacks(repo: Repository, packs: readonly PrunedPack[]): Promise<void> {
  await writePrunePlan(repo, { v: 1, createdAt: new Date().toISOString(), packs: packs.map((p) => p.name) });
}

/** The packs to rewrite, cut where their live bytes reach `unitBytes`: about one new pack a unit. */
function repackUnits(rewrite: readonly number[], usage: PackUsage, unitBytes: number): number[][] {
  const units: number[][] = [];
  let unit: number[] = [];
  let bytes = 0;
  for (const i of rewrite) {
    unit.push(i);
    bytes += usage.liveBytes[i]!;
    if (bytes >= unitBytes) {
      units.push(unit);
      unit = [];
      bytes = 0;
    }
  }
  if (unit.length > 0) units.push(unit);
  return units;
}
