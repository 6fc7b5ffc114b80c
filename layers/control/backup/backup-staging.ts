/**
 * What a backup keeps in the staging bucket while it runs, under `backups/<taskId>/` (the bucket
 * expires it): the plan's batches, its cursor between invocations, the manifest the Distributed
 * Map reads, each batch's result as its workers recorded it part by part, why a batch failed (for the task's
 * end), and the Map's own ResultWriter output under `results/`. Batches are numbered in plan
 * order, fixed width, so they list in order.
 */
import type { BackupCounts, WorkBatch } from '../engine/kloset-adapter.js';
import type { StagingArea } from '../staging/staging-area.js';
import type { TaskFailure } from '../tasks/task.js';
import type { BatchItemRef } from './backup-events.js';

/** The staging prefix the backup workflow owns: the worker's and the state machine's grants. */
export const BACKUP_PREFIX = 'backups/';

const WIDTH = 8;

/**
 * What the workers record of a batch, for the commit and the counters: rewritten (one PUT, so
 * at once) after each invocation's part, so a retry resumes from the last part recorded.
 */
export interface BatchRecord {
  /** the saved partial trees' IDs, one an invocation, in order */
  readonly partialTrees: string[];
  /** content bytes read from the source */
  readonly bytesRead: number;
  readonly counts: BackupCounts;
  /** what is left of the batch, until it is done */
  readonly remaining?: WorkBatch;
}

export class BackupStaging {
  private readonly prefix: string;

  constructor(
    private readonly area: StagingArea,
    private readonly taskId: string,
  ) {
    this.prefix = `${BACKUP_PREFIX}${taskId}/`;
  }

  get bucket(): string {
    return this.area.bucket;
  }

  batchKey(index: number): string {
    return `${this.prefix}batches/${String(index).padStart(WIDTH, '0')}.json`;
  }

  /**
   * Where the plan stopped once it had written `batches` batches: named after that count, so a
   * plan invocation that died before saving its checkpoint leaves the cursor of the checkpoint
   * its retry resumes from (one key for all would hand the retry the dead invocation's cursor,
   * and its batches would overwrite the ones that invocation wrote).
   */
  cursorKey(batches: number): string {
    return `${this.prefix}plan-cursors/${String(batches).padStart(WIDTH, '0')}.json`;
  }

  /** where the Distributed Map's ResultWriter writes (AWS) */
  get resultsPrefix(): string {
    return `${this.prefix}results/`;
  }

  get manifestKey(): string {
    return `${this.prefix}manifest.json`;
  }

  /** The batch's number, from its key (refused when the key is not one of this backup's batches). */
  batchIndex(key: string): number {
    const match = new RegExp(`^${this.prefix}batches/(\\d{${WIDTH}})\\.json$`).exec(key);
    if (!match) throw new Error(`${key} is not a batch of this backup`);
    return Number(match[1]);
  }

  private recordKey(index: number): string {
    return `${this.prefix}batch-results/${String(index).padStart(WIDTH, '0')}.json`;
  }

  items(batches: number): BatchItemRef[] {
    return Array.from({ length: batches }, (_, i) => ({ key: this.batchKey(i), taskId: this.taskId }));
  }

  put(key: string, value: unknown): Promise<void> {
    return this.area.putJson(key, value);
  }

  get(key: string): Promise<unknown> {
    return this.area.getJson(key);
  }

  putRecord(index: number, record: BatchRecord): Promise<void> {
    return this.area.putJson(this.recordKey(index), record);
  }

  async getRecord(index: number): Promise<BatchRecord | undefined> {
    return (await this.area.getJson(this.recordKey(index))) as BatchRecord | undefined;
  }

  /** Why batch `index` failed, in words a user can act on: the last worker's to fail says it. */
  putFailure(index: number, failure: TaskFailure): Promise<void> {
    return this.area.putJson(`${this.prefix}failure.json`, { index, failure });
  }

  async getFailure(): Promise<{ index: number; failure: TaskFailure } | undefined> {
    return (await this.area.getJson(`${this.prefix}failure.json`)) as
      { index: number; failure: TaskFailure } | undefined;
  }
}
