/**
 * The backup workflow's stages, as the task-worker function runs them (lib/backup-state-machine.ts
 * calls them; docs/ARCHITECTURE.md, "Backups"):
 *
 * - **plan**: one invocation of the engine's plan, until its deadline; it writes each batch to the
 *   staging bucket and, between invocations, the plan's cursor; the task's checkpoint counts the
 *   batches. The last invocation writes the manifest the Distributed Map reads.
 * - **batch**: one worker's batches: each backed up into the store (`backupBatch`) until the
 *   invocation's deadline, what it did (the partial tree's ID, counts) and what is left recorded
 *   beside it in staging after each invocation, the task's counters added to atomically; the
 *   state machine calls again until the answer says done.
 * - **commit**: one snapshot of the recorded partial trees and the parent's unchanged part, at
 *   a time saved in the checkpoint first, so that a retry of a commit that died after writing the
 *   snapshot makes the same record and the engine writes nothing twice; the result is kept in
 *   the checkpoint.
 * - **record**: the task succeeds with that result.
 *
 * A failure the user can act on (a typed error) ends the plan and the commit with the task
 * failed; a batch cannot end the task (the Map runs on): it records the reason in staging and
 * throws, so the Map fails and the execution's Catch (`fail`) ends the task with that reason
 * (`batchFailure`). The task's `failure` is only ever written with its end.
 */
import {
  type BackupCounts,
  backupBatch,
  type BackupSource,
  type BatchResult,
  batchBytes,
  commitSnapshot,
  type KlosetAdapter,
  parsePlanCursor,
  parseWorkBatch,
  type PlanCursor,
  planBackup,
  type SnapshotError,
  type SnapshotRecord,
  type Store,
} from '../engine/kloset-adapter.js';
import { logger } from '../runtime/observability.js';
import type { StagingArea } from '../staging/staging-area.js';
import type { AppStores } from '../store-apps/app-store.js';
import type { DestinationTargets } from '../tasks/restore/destination-target.js';
import type { TaskFailure, TaskProgress, TaskRecord } from '../tasks/task.js';
import type { TaskLifecycle } from '../tasks/task-lifecycle.js';
import type { TaskRepository } from '../tasks/task-repository.js';
import type { BackupAnswer, BackupEvent, BatchAnswer, PlanAnswer, StageAnswer } from './backup-events.js';
import { BackupParameters } from './backup-parameters.js';
import { BackupStaging, type BatchRecord } from './backup-staging.js';

/**
 * A batch's bounds by default: 1 GiB read and 5,000 entries take a 2 GB worker minutes, well
 * inside 15; from a slower source a batch goes on in the next invocation.
 */
export const DEFAULT_BATCH_BYTES = 2 ** 30;
export const DEFAULT_BATCH_ENTRIES = 5000;
/**
 * Entries each plan invocation compares at least, whatever its deadline: resuming costs a listing
 * and the parent's path walked again, and an invocation that had little time left after that
 * (a throttled worker, a tiny test cap) must still advance by more than one entry.
 */
const PLAN_MIN_ENTRIES = 256;

/**
 * The hostname backups record: workers have no stable host of their own, and a backup's parent
 * is the latest snapshot of the same sources with this hostname.
 */
export const BACKUP_HOSTNAME = 'kloud';

/** Errors a task's result keeps (its item stays under DynamoDB's 400 KB); the snapshot has them all. */
const KEPT_ERRORS = 100;
/** Batch records the commit reads at once. */
const READ_CONCURRENCY = 16;

export interface BackupTaskResult extends Record<string, unknown> {
  /** the snapshot's ID */
  readonly snapshot: string;
  readonly files: number;
  readonly dirs: number;
  readonly bytes: number;
  readonly filesRead: number;
  /** content bytes the workers read from the source */
  readonly bytesRead: number;
  readonly newBytes: number;
  readonly storedBytes: number;
  readonly batches: number;
  /** the first entries the backup could not read (`errorCount` says how many in all) */
  readonly errors: SnapshotError[];
  readonly errorCount: number;
}

/** Where a backup stands between its stages: in the task's item (small; the plan's cursor is in staging). */
interface BackupCheckpoint {
  readonly startedAt: number;
  /** the snapshot's sources and the plan's parent snapshot, for the commit */
  readonly sources: string[];
  readonly parent: string | null;
  /** batches written so far */
  readonly batches: number;
  /** content bytes the batches read */
  readonly bytes: number;
  readonly planned: boolean;
  /** the snapshot's time (epoch ms), fixed before the first attempt to commit */
  readonly committedAt?: number;
  /** the commit's result, once committed */
  readonly result?: BackupTaskResult;
}

export interface BackupStageOptions {
  readonly batchBytes?: number;
  readonly batchEntries?: number;
  /** caps each plan and batch invocation's time (KLOUD_TASK_SLICE_MS) */
  readonly sliceMs?: number;
  /** caps each batch invocation's time instead (KLOUD_BACKUP_BATCH_SLICE_MS; default: `sliceMs`) */
  readonly batchSliceMs?: number;
  /** kept free at the end of a plan or batch invocation */
  readonly safetyMarginMs: number;
  /** why a thrown error failed the task, in words a user can act on; undefined: internal */
  failureOf(err: unknown): TaskFailure | undefined;
}

export class BackupStages {
  constructor(
    private readonly repository: TaskRepository,
    private readonly lifecycle: TaskLifecycle,
    private readonly stores: AppStores,
    private readonly engine: KlosetAdapter,
    private readonly places: DestinationTargets,
    /** absent where the function binds no staging bucket */
    private readonly staging: StagingArea | undefined,
    private readonly options: BackupStageOptions,
  ) {}

  handle(event: BackupEvent, remainingMs: number): Promise<BackupAnswer> {
    switch (event.action) {
      case 'plan':
        return this.plan(event.taskId, remainingMs, event.answerItems === true);
      case 'batch':
        return this.batch(
          event.taskId,
          event.items.map((i) => i.key),
          remainingMs,
        );
      case 'commit':
        return this.commit(event.taskId);
      case 'record':
        return this.record(event.taskId);
    }
  }

  /** One invocation of the plan: batches to staging until the deadline, then the cursor or the manifest. */
  private async plan(taskId: string, remainingMs: number, answerItems: boolean): Promise<PlanAnswer> {
    const started = Date.now();
    const task = await this.repository.get(taskId);
    const staging = this.stagingOf(taskId);
    const answer = (ended: boolean, checkpoint?: BackupCheckpoint): PlanAnswer => {
      const planned = checkpoint?.planned === true;
      return {
        ended,
        planned,
        batches: checkpoint?.batches ?? 0,
        manifest: staging.manifestKey,
        results: staging.resultsPrefix,
        ...(answerItems && { items: planned ? staging.items(checkpoint.batches) : [] }),
      };
    };
    if (task.state !== 'running') return answer(true);
    const before = task.checkpoint as BackupCheckpoint | undefined;
    // a retried invocation whose plan had completed
    if (before?.planned) return answer(false, before);
    const deadline = this.deadlineOf(started, remainingMs, this.options.sliceMs);
    const step = await this.failing(task, () =>
      this.withStoreAndSource(task, (store, parameters, source, path) =>
        this.planSome(store, parameters, source, path, staging, before, deadline, started),
      ),
    );
    if (!step) return answer(true);
    const { checkpoint, cursor } = step;
    if (cursor) await staging.put(staging.cursorKey(checkpoint.batches), cursor);
    else await staging.put(staging.manifestKey, staging.items(checkpoint.batches));
    const progress: Omit<TaskProgress, 'updatedAt'> = checkpoint.planned
      ? {
          unit: 'batches',
          done: 0,
          total: checkpoint.batches,
          bytesDone: 0,
          bytesTotal: checkpoint.bytes,
          newBytes: 0,
          message: `backing up ${checkpoint.batches} batches`,
        }
      : { unit: 'batches', done: 0, message: `planning: ${checkpoint.batches} batches so far` };
    const saved = await this.repository.update(taskId, (t) =>
      t.state === 'running'
        ? { checkpoint, progress: { ...progress, updatedAt: new Date().toISOString() } }
        : undefined,
    );
    if (!saved.written) return answer(true);
    logger.info('plan', {
      batches: checkpoint.batches,
      planned: checkpoint.planned,
      ms: Date.now() - started,
    });
    return answer(false, checkpoint);
  }

  private async planSome(
    store: Store,
    parameters: BackupParameters,
    source: BackupSource,
    path: string,
    staging: BackupStaging,
    before: BackupCheckpoint | undefined,
    deadline: () => number,
    started: number,
  ): Promise<{ checkpoint: BackupCheckpoint; cursor?: PlanCursor }> {
    let cursor: PlanCursor | undefined;
    if (before) {
      const key = staging.cursorKey(before.batches);
      const saved = await staging.get(key);
      if (saved === undefined) throw new Error(`the plan's cursor ${key} is missing`);
      cursor = parsePlanCursor(saved);
    }
    const plan = await planBackup(store.repo, source, [path], {
      maxBatchBytes: this.options.batchBytes ?? DEFAULT_BATCH_BYTES,
      maxBatchEntries: this.options.batchEntries ?? DEFAULT_BATCH_ENTRIES,
      hostname: BACKUP_HOSTNAME,
      ...(parameters.excludes && { excludes: parameters.excludes }),
      ...(cursor && { cursor }),
      deadline: deadline(),
      minEntries: PLAN_MIN_ENTRIES,
    });
    let batches = before?.batches ?? 0;
    let bytes = before?.bytes ?? 0;
    let stopped: PlanCursor | undefined;
    for await (const step of plan.steps()) {
      if ('stopped' in step) {
        stopped = step.stopped;
        break;
      }
      // batches are final once yielded: each is written before the plan goes on
      await staging.put(staging.batchKey(batches), step.batch);
      batches++;
      bytes += batchBytes(step.batch);
    }
    const checkpoint: BackupCheckpoint = {
      startedAt: before?.startedAt ?? started,
      sources: plan.sources,
      parent: plan.parent?.id ?? null,
      batches,
      bytes,
      planned: stopped === undefined,
    };
    return { checkpoint, ...(stopped && { cursor: stopped }) };
  }

  /**
   * When an invocation stops: its end less the safety margin; the cap (tests) counts from when
   * its work starts (the deadline is asked for then).
   */
  private deadlineOf(started: number, remainingMs: number, capMs = Infinity): () => number {
    const lambdaDeadline = started + Math.max(remainingMs - this.options.safetyMarginMs, 0);
    return () => Math.min(lambdaDeadline, Date.now() + capMs);
  }

  /**
   * Backs up one worker's batches until the invocation's deadline, recording each invocation's
   * part of a batch in staging: a later invocation, or the retry of one that died, goes on from
   * the last part recorded, and passes over the batches recorded done (not counting them again).
   */
  private async batch(taskId: string, keys: readonly string[], remainingMs: number): Promise<BatchAnswer> {
    const started = Date.now();
    const task = await this.repository.get(taskId);
    if (task.state !== 'running') return { done: true, backedUp: 0 };
    const staging = this.stagingOf(taskId);
    const todo: { index: number; record?: BatchRecord }[] = [];
    for (const key of keys) {
      const index = staging.batchIndex(key);
      const record = await staging.getRecord(index);
      if (!record || record.remaining) todo.push({ index, ...(record && { record }) });
    }
    if (todo.length === 0) return { done: true, backedUp: 0 };
    const deadline = this.deadlineOf(started, remainingMs, this.options.batchSliceMs ?? this.options.sliceMs);
    let backedUp = 0;
    let current = todo[0]!.index;
    try {
      await this.withStoreAndSource(task, async (store, _parameters, source) => {
        for (const { index, record } of todo) {
          current = index;
          const batch = record?.remaining ?? parseWorkBatch(await staging.get(staging.batchKey(index)));
          const part = await backupBatch(store.repo, batch, { source, deadline: deadline() });
          const bytesRead = batchBytes(batch) - (part.remaining ? batchBytes(part.remaining) : 0);
          await staging.putRecord(index, withPart(record, part, bytesRead));
          await this.repository.addProgress(taskId, {
            done: part.remaining ? 0 : 1,
            bytesDone: bytesRead,
            newBytes: part.counts.newBytes,
          });
          if (part.remaining) return; // the deadline passed
          backedUp++;
        }
      });
    } catch (err) {
      const failure = this.options.failureOf(err);
      // the Map fails on this worker; the execution's Catch reads the reason recorded here
      if (failure) await staging.putFailure(current, failure);
      throw err;
    }
    return { done: backedUp === todo.length, backedUp };
  }

  /**
   * The snapshot of every batch's partial tree; its result kept in the checkpoint. The snapshot's
   * time is saved before it is written: the engine makes the same record (the same ID) of the
   * same trees and meta, so an attempt after one that died between the snapshot and the
   * checkpoint finds it written and writes nothing more.
   */
  private async commit(taskId: string): Promise<StageAnswer> {
    const task = await this.repository.get(taskId);
    if (task.state !== 'running') return { ended: true };
    const read = task.checkpoint as BackupCheckpoint | undefined;
    if (!read?.planned) throw new Error('commit before the plan completed');
    if (read.result) return { ended: false };
    const checkpoint = await this.commitTimeFixed(taskId, read);
    if (!checkpoint) return { ended: true };
    const { tags } = BackupParameters.parse(task.parameters);
    const records = await readRecords(this.stagingOf(taskId), checkpoint.batches);
    const result = await this.failing(task, async () =>
      this.stores.withStore(await this.stores.readyApp(task.appId), async (store) => {
        const parent =
          checkpoint.parent === null ? undefined : await store.resolveSnapshot(checkpoint.parent);
        const snapshot = await commitSnapshot(
          store.repo,
          records.flatMap((r) => r.partialTrees),
          {
            sources: checkpoint.sources,
            ...(parent && { parent }),
            ...(tags && { tags }),
            hostname: BACKUP_HOSTNAME,
            startedAt: checkpoint.startedAt,
            time: checkpoint.committedAt,
          },
        );
        return resultOf(snapshot, records);
      }),
    );
    if (!result) return { ended: true };
    const saved = await this.repository.update(taskId, (t) =>
      t.state === 'running' ? { checkpoint: { ...checkpoint, result } } : undefined,
    );
    return { ended: !saved.written };
  }

  /** The checkpoint with the snapshot's time, saved on the first attempt; undefined once the task has ended. */
  private async commitTimeFixed(
    taskId: string,
    checkpoint: BackupCheckpoint,
  ): Promise<BackupCheckpoint | undefined> {
    if (checkpoint.committedAt !== undefined) return checkpoint;
    const fixed = { ...checkpoint, committedAt: Date.now() };
    const saved = await this.repository.update(taskId, (t) =>
      t.state === 'running' ? { checkpoint: fixed } : undefined,
    );
    return saved.written ? fixed : undefined;
  }

  /**
   * Why a batch failed, as its worker recorded it; undefined when none did (or no staging is
   * bound: none ran), when that batch was done by a retry since (the task failed for another
   * reason: a later failure of another worker, say), or once the commit has begun.
   */
  async batchFailure(task: TaskRecord): Promise<TaskFailure | undefined> {
    const checkpoint = task.checkpoint as BackupCheckpoint | undefined;
    if (!this.staging || checkpoint?.committedAt !== undefined) return undefined;
    const staging = this.stagingOf(task.id);
    const recorded = await staging.getFailure();
    if (!recorded) return undefined;
    const record = await staging.getRecord(recorded.index);
    return record && !record.remaining ? undefined : recorded.failure;
  }

  /**
   * Whether batch workers may still be running when the task's execution fails: from the end of
   * the plan to the start of the commit (the Map's span). Before it the plan, after it the commit
   * or the record, was the only invocation, and it has ended.
   */
  batchWorkersMayRun(task: TaskRecord): boolean {
    const checkpoint = task.checkpoint as BackupCheckpoint | undefined;
    return checkpoint?.planned === true && checkpoint.committedAt === undefined;
  }

  /** The task succeeds with the commit's result. */
  private async record(taskId: string): Promise<StageAnswer> {
    const task = await this.repository.get(taskId);
    const checkpoint = task.checkpoint as BackupCheckpoint | undefined;
    if (task.state !== 'running' || !checkpoint?.result) return { ended: true };
    const { result } = checkpoint;
    await this.lifecycle.finish(taskId, 'succeeded', {
      result,
      progress: {
        unit: 'batches',
        done: result.batches,
        total: result.batches,
        bytesDone: result.bytesRead,
        bytesTotal: checkpoint.bytes,
        newBytes: result.newBytes,
        updatedAt: new Date().toISOString(),
      },
    });
    return { ended: false };
  }

  private stagingOf(taskId: string): BackupStaging {
    if (!this.staging) throw new Error('backup: no staging bucket is bound to this function');
    return new BackupStaging(this.staging, taskId);
  }

  /** Opens the task's store (the index within the function's memory budget) and its source. */
  private async withStoreAndSource<T>(
    task: TaskRecord,
    call: (store: Store, parameters: BackupParameters, source: BackupSource, path: string) => Promise<T>,
  ): Promise<T> {
    const parameters = BackupParameters.parse(task.parameters);
    const app = await this.stores.readyApp(task.appId);
    await this.stores.readyApp(parameters.source.appId);
    const target = await this.places.target(parameters.source, 'source');
    return this.stores.withStore(app, (store) =>
      this.engine.withSource(target, (source, path) => call(store, parameters, source, path)),
    );
  }

  /**
   * Runs a stage; a failure the user can act on ends the task failed (undefined answered), any
   * other is thrown for the state machine's retries and Catch.
   */
  private async failing<T>(task: TaskRecord, stage: () => Promise<T>): Promise<T | undefined> {
    try {
      return await stage();
    } catch (err) {
      const failure = this.options.failureOf(err);
      if (!failure) throw err;
      await this.lifecycle.finish(task.id, 'failed', { failure });
      return undefined;
    }
  }
}

/** A batch's record with an invocation's part added: its partial tree after the others, its counts to theirs. */
function withPart(record: BatchRecord | undefined, part: BatchResult, bytesRead: number): BatchRecord {
  const counts = { ...part.counts };
  if (record) for (const k of Object.keys(counts) as (keyof BackupCounts)[]) counts[k] += record.counts[k];
  return {
    partialTrees: [...(record?.partialTrees ?? []), part.partialTree],
    bytesRead: (record?.bytesRead ?? 0) + bytesRead,
    counts,
    ...(part.remaining && { remaining: part.remaining }),
  };
}

/** Every batch's record, in plan order; a batch not recorded done is an internal error (the Map said done). */
async function readRecords(staging: BackupStaging, batches: number): Promise<BatchRecord[]> {
  const records: BatchRecord[] = new Array<BatchRecord>(batches);
  let next = 0;
  const reader = async () => {
    while (next < batches) {
      const index = next++;
      const record = await staging.getRecord(index);
      if (!record || record.remaining) throw new Error(`batch ${index} of the backup is not done`);
      records[index] = record;
    }
  };
  await Promise.all(Array.from({ length: Math.min(READ_CONCURRENCY, batches) }, reader));
  return records;
}

function resultOf(snapshot: SnapshotRecord, records: readonly BatchRecord[]): BackupTaskResult {
  const { files, dirs, bytes, filesRead, newBytes, storedBytes } = snapshot.summary;
  return {
    snapshot: snapshot.id,
    files,
    dirs,
    bytes,
    filesRead,
    bytesRead: records.reduce((sum, r) => sum + r.bytesRead, 0),
    newBytes,
    storedBytes,
    batches: records.length,
    errors: snapshot.errors.slice(0, KEPT_ERRORS),
    errorCount: snapshot.errors.length,
  };
}
