/**
 * A task: one long action on a store app (check, sync, restore, backup, maintenance), as the
 * table keeps it and the API shows it.
 *
 *   queued ──► running ──► succeeded | failed | cancelled
 *      │         ▲    │
 *      │         │    ▼
 *      │    waiting-for-retrieval ──► failed | cancelled (a cold restore: archived data is retrieved)
 *      └──────────────────────────────► failed | cancelled (it could not start, or was cancelled before)
 *
 * The work itself runs in slices, each inside one Lambda invocation (task-work.ts); between
 * slices the task's checkpoint is in its item, so a slice that ends keeps everything done.
 */
import { randomBytes } from 'node:crypto';
import { z } from 'zod';

export const TASK_TYPES = ['check', 'sync', 'restore', 'backup', 'maintenance'] as const;
export type TaskType = (typeof TASK_TYPES)[number];

export const TASK_STATES = [
  'queued',
  'running',
  'waiting-for-retrieval',
  'succeeded',
  'failed',
  'cancelled',
] as const;
export type TaskState = (typeof TASK_STATES)[number];
export const FINAL_STATES: readonly TaskState[] = ['succeeded', 'failed', 'cancelled'];

const NEXT_STATES: Readonly<Record<TaskState, readonly TaskState[]>> = {
  // a task whose execution could not start, or whose start step failed, fails from queued
  queued: ['running', 'failed', 'cancelled'],
  running: ['waiting-for-retrieval', 'succeeded', 'failed', 'cancelled'],
  // a restore from a cold app while its archived data packs are retrieved (restore/retrieval-steps.ts)
  'waiting-for-retrieval': ['running', 'failed', 'cancelled'],
  succeeded: [],
  failed: [],
  cancelled: [],
};

/** Whether a task in state `from` may move to `to` (a final state never changes). */
export function canMove(from: TaskState, to: TaskState): boolean {
  return NEXT_STATES[from].includes(to);
}

export function isFinal(state: TaskState): boolean {
  return FINAL_STATES.includes(state);
}

/** Whether the task is under way (working, or waiting for its data): it shows progress and may be cancelled. */
export function isLive(state: TaskState): boolean {
  return state === 'running' || state === 'waiting-for-retrieval';
}

/**
 * A new task ID: a UUID version 7, whose first 48 bits are the creation time in ms, so that
 * IDs sort as the tasks were created (the table lists tasks by ID, newest first).
 */
export function newTaskId(now = Date.now()): string {
  const bytes = randomBytes(16);
  bytes.writeUIntBE(now, 0, 6);
  bytes[6] = (bytes[6]! & 0x0f) | 0x70;
  bytes[8] = (bytes[8]! & 0x3f) | 0x80;
  const hex = bytes.toString('hex');
  return [hex.slice(0, 8), hex.slice(8, 12), hex.slice(12, 16), hex.slice(16, 20), hex.slice(20)].join('-');
}

export const TaskId = z.strictObject({
  taskId: z.string().regex(/^[0-9a-f-]{36}$/, 'expected a task ID as the API gave it'),
});

/** Counters a client shows as progress; updated at most every few seconds while it runs. */
export const TaskProgress = z
  .object({
    /** what `done`/`total` count: 'packs', 'snapshots', 'files', 'entries' */
    unit: z.string(),
    done: z.number().int().nonnegative(),
    total: z.number().int().nonnegative().optional(),
    bytesDone: z.number().nonnegative().optional(),
    bytesTotal: z.number().nonnegative().optional(),
    /** of `bytesDone`, what the store did not have (a backup's new bytes after deduplication) */
    newBytes: z.number().nonnegative().optional(),
    /** one line: what it is doing now */
    message: z.string().optional(),
    updatedAt: z.string(),
  })
  .meta({ id: 'TaskProgress' });
export type TaskProgress = z.infer<typeof TaskProgress>;

/** Why a task failed, in words a user can act on (never internal error text or secrets). */
export const TaskFailure = z.object({ code: z.string(), message: z.string() }).meta({ id: 'TaskFailure' });
export type TaskFailure = z.infer<typeof TaskFailure>;

export const Task = z
  .object({
    id: z.string(),
    type: z.enum(TASK_TYPES),
    appId: z.string(),
    /** the request's parameters, as validated (type-specific) */
    parameters: z.record(z.string(), z.unknown()),
    state: z.enum(TASK_STATES),
    progress: TaskProgress.optional(),
    /** type-specific: the check report, the sync's copied snapshots, the restore's counts, what a maintenance forgot and freed */
    result: z.record(z.string(), z.unknown()).optional(),
    failure: TaskFailure.optional(),
    /** who started it: the IAM principal's ARN, `local` in local mode, `schedule:ID` */
    principal: z.string(),
    /** the Step Functions execution running it */
    executionArn: z.string().optional(),
    createdAt: z.string(),
    startedAt: z.string().optional(),
    endedAt: z.string().optional(),
  })
  .meta({ id: 'Task' });
export type Task = z.infer<typeof Task>;

/** The task as the table keeps it: the public fields plus the runtime's own. */
export interface TaskRecord extends Task {
  readonly version: number;
  /** where the work stands between slices (task-work.ts); never shown */
  readonly checkpoint?: unknown;
  readonly idempotencyKey?: string;
  /** the lease it holds while it runs (task-claims.ts), for a task type that must not overlap */
  readonly exclusiveKey?: string;
  /**
   * Set when it ended while its work may still be running (a cancel, a failure its work did not
   * make): its lease holds until the work lets go of it, or this time has passed (task-lifecycle.ts)
   */
  readonly workMayRunUntil?: string;
}

export function publicTask(record: TaskRecord): Task {
  return Task.parse(record);
}
