/**
 * The maintenance task: forget by a retention policy, then prune, continuing across slices.
 *
 * The first slice forgets (tombstones, instant: the engine's `forget`) and keeps what it forgot and
 * kept in the checkpoint; every slice then runs one prune step (Store.pruneStep) until its
 * deadline, the engine's small checkpoint carried in ours, its mark state (too large for an item) in
 * the staging bucket under the task's prefix (`prunePlace`), so a mark longer than a slice
 * continues in the next. Each prune step leaves the store valid
 * wherever it stops (docs/FORMAT.md, "Prune in steps"), so a slice that ends keeps all it did.
 * The grace period is the engine's: a pack found unused now is deleted by a maintenance at least
 * that long after (the next day's, on a daily schedule). `dryRun` forgets and prunes nothing and
 * reports what both would do, in one slice.
 */
import { z } from 'zod';
import type {
  ForgetGroup,
  PruneCheckpoint,
  PruneProgress,
  PruneReport,
  PruneScratch,
  Store,
} from '../../kloset/index.js';
import { Unprocessable } from '../errors.js';
import type { StagingArea } from '../staging/staging-area.js';
import type { AppStores } from '../store-apps/app-store.js';
import type { StoreAppRecord } from '../store-apps/store-app.js';
import type { SliceInput, SliceOutcome, TaskWork } from '../tasks/task-work.js';
import { prunePlace } from './prune-scratch.js';
import { Retention, retentionPolicy } from './retention.js';

export const MaintenanceParameters = z
  .strictObject({
    retention: Retention.optional().meta({
      description: "the policy to apply; default: the app's retention",
    }),
    dryRun: z
      .boolean()
      .default(false)
      .meta({ description: 'report what would be forgotten and freed, change nothing' }),
  })
  .meta({ id: 'MaintenanceParameters' });
export type MaintenanceParameters = z.infer<typeof MaintenanceParameters>;

/** Snapshot IDs a result lists (with the counts of all): its item stays far under 400 KB. */
export const LISTED_SNAPSHOTS = 100;

export interface MaintenanceResult extends Record<string, unknown> {
  dryRun: boolean;
  /** the policy applied */
  retention: Retention;
  snapshots: {
    /** newest first within each group; at most LISTED_SNAPSHOTS */
    forgotten: string[];
    forgottenCount: number;
    kept: string[];
    keptCount: number;
  };
  packs: {
    /** deleted: planned by an earlier maintenance at least a grace period ago, still unused */
    deleted: number;
    /** found unused now: deleted by a maintenance after the grace period */
    planned: number;
    /** mostly unused: their live blobs copied into `written` new packs, the old ones planned */
    repacked: number;
    written: number;
    /** planned by an earlier maintenance, still within the grace period */
    waiting: number;
  };
  freedBytes: number;
  /** bytes of the packs planned now: what a maintenance after the grace period frees */
  plannedBytes: number;
  /** what deleting archived packs early bills (cold stores: Glacier 90 days, Deep Archive 180) */
  earlyDeletionUsd: number;
  /** the same for the planned packs, were they deleted today */
  plannedEarlyDeletionUsd: number;
  /** index deltas replaced by consolidated ones */
  deltasReplaced: number;
}

export interface MaintenanceCheckpoint {
  readonly result: MaintenanceResult;
  /** the engine's, after the first prune step */
  readonly prune?: PruneCheckpoint;
}

export interface MaintenanceOptions {
  /** how long a pack stays planned before it is deleted; default: the engine's (24 h) */
  readonly graceMs?: number;
}

export class MaintenanceWork implements TaskWork<
  MaintenanceParameters,
  MaintenanceCheckpoint,
  MaintenanceResult
> {
  constructor(
    private readonly stores: AppStores,
    private readonly options: MaintenanceOptions = {},
    /** where a prune's mark waits between slices; without, each slice's prune step marks in one go */
    private readonly staging?: StagingArea,
  ) {}

  async slice(
    input: SliceInput<MaintenanceParameters, MaintenanceCheckpoint>,
  ): Promise<SliceOutcome<MaintenanceCheckpoint, MaintenanceResult>> {
    const { task, parameters, deadline, signal, report } = input;
    const app = await this.stores.readyApp(task.appId);
    const onProgress = (p: PruneProgress) =>
      report({ unit: PROGRESS_UNITS[p.phase], done: p.done, ...(p.total > 0 && { total: p.total }) });
    return this.stores.withStore(app, async (store) => {
      let checkpoint = input.checkpoint;
      if (!checkpoint) {
        const retention = effectiveRetention(app, parameters);
        const groups = await store.forget({ policy: retentionPolicy(retention), dryRun: parameters.dryRun });
        const result = withSnapshots(emptyResult(retention, parameters.dryRun), groups);
        report({ unit: 'snapshots', done: result.snapshots.forgottenCount, message: 'forgotten' });
        if (parameters.dryRun) {
          const forgotten = groups.flatMap((g) => g.decisions.filter((d) => d.reasons.length === 0));
          const dry = await store.prune({
            ...this.options,
            dryRun: true,
            assumeRemoved: forgotten.map((d) => d.snapshot.id),
            onProgress,
          });
          return { done: true, result: withPrune(result, dry) };
        }
        checkpoint = { result };
        if (Date.now() >= deadline || signal.aborted) return { done: false, checkpoint };
      }
      const scratch = this.staging && prunePlace(this.staging, task.id);
      return pruneSome(store, checkpoint, {
        ...this.options,
        deadline,
        signal,
        onProgress,
        ...(scratch && { scratch }),
      });
    });
  }
}

const PROGRESS_UNITS: Record<PruneProgress['phase'], string> = {
  walk: 'trees',
  repack: 'packs repacked',
  delete: 'packs deleted',
};

async function pruneSome(
  store: Store,
  checkpoint: MaintenanceCheckpoint,
  opts: {
    graceMs?: number;
    deadline: number;
    signal: AbortSignal;
    onProgress(p: PruneProgress): void;
    scratch?: PruneScratch;
  },
): Promise<SliceOutcome<MaintenanceCheckpoint, MaintenanceResult>> {
  const step = await store.pruneStep({ ...opts, ...(checkpoint.prune && { checkpoint: checkpoint.prune }) });
  const result = withPrune(checkpoint.result, step.report);
  return step.done ? { done: true, result } : { done: false, checkpoint: { result, prune: step.checkpoint } };
}

/** The request's policy, else the app's; none at all is refused (before the task exists, by precheck). */
export function effectiveRetention(app: StoreAppRecord, parameters: MaintenanceParameters): Retention {
  const retention = parameters.retention ?? app.retention;
  if (!retention) {
    throw new Unprocessable(
      `store app ${app.name} has no retention policy: set one (PATCH /store-apps/{appId} with retention) or give one in the request`,
      'NO_RETENTION',
    );
  }
  return retention;
}

function emptyResult(retention: Retention, dryRun: boolean): MaintenanceResult {
  return {
    dryRun,
    retention,
    snapshots: { forgotten: [], forgottenCount: 0, kept: [], keptCount: 0 },
    packs: { deleted: 0, planned: 0, repacked: 0, written: 0, waiting: 0 },
    freedBytes: 0,
    plannedBytes: 0,
    earlyDeletionUsd: 0,
    plannedEarlyDeletionUsd: 0,
    deltasReplaced: 0,
  };
}

function withSnapshots(result: MaintenanceResult, groups: readonly ForgetGroup[]): MaintenanceResult {
  const decisions = groups.flatMap((g) => g.decisions);
  const forgotten = decisions.filter((d) => d.reasons.length === 0).map((d) => d.snapshot.id);
  const kept = decisions.filter((d) => d.reasons.length > 0).map((d) => d.snapshot.id);
  return {
    ...result,
    snapshots: {
      forgotten: forgotten.slice(0, LISTED_SNAPSHOTS),
      forgottenCount: forgotten.length,
      kept: kept.slice(0, LISTED_SNAPSHOTS),
      keptCount: kept.length,
    },
  };
}

/** The result with one prune step's report added. */
function withPrune(result: MaintenanceResult, step: PruneReport): MaintenanceResult {
  const sum = (packs: readonly { size: number }[]) => packs.reduce((n, p) => n + p.size, 0);
  return {
    ...result,
    packs: {
      deleted: result.packs.deleted + step.deleted.length,
      planned: result.packs.planned + step.planned.length,
      repacked: result.packs.repacked + step.repacked.length,
      written: result.packs.written + step.packsWritten,
      waiting: step.waiting,
    },
    freedBytes: result.freedBytes + step.freedBytes,
    plannedBytes: result.plannedBytes + sum(step.planned),
    earlyDeletionUsd: result.earlyDeletionUsd + step.earlyDeletionUsd,
    plannedEarlyDeletionUsd:
      result.plannedEarlyDeletionUsd + step.planned.reduce((n, p) => n + (p.earlyDeletion?.usd ?? 0), 0),
    deltasReplaced: result.deltasReplaced + step.deltasReplaced,
  };
}
