/**
 * What runs a task's slices one after another until it ends: a Step Functions execution of the
 * task state machine in AWS (step-functions-runner.ts), the same synthesized definition run
 * in-process in local mode (local/). The execution calls the task-worker function, whose event
 * is a `WorkerEvent`: `start` once, `slice` until it answers `done`, `fail` when a state failed;
 * `ended` comes from outside the execution, when it ended and left its task unfinished.
 */
import type { BackupAnswer, BackupEvent } from '../backup/backup-events.js';
import type { RetrievalAnswer, RetrievalEvent } from './restore/retrieval-steps.js';
import type { TaskRecord, TaskType } from './task.js';

/**
 * The state machines tasks run on: the generic slice loop (`task`), and the workflows whose
 * stages differ: a backup's plan, fan-out and commit, a restore that may wait for a retrieval.
 */
export const WORKFLOWS = ['task', 'backup', 'restore'] as const;
export type Workflow = (typeof WORKFLOWS)[number];

const WORKFLOW_OF: { readonly [type in TaskType]?: Workflow } = { backup: 'backup', restore: 'restore' };

/** The state machine a task of this type runs on. */
export function workflowOf(type: TaskType): Workflow {
  return WORKFLOW_OF[type] ?? 'task';
}

export interface TaskRunner {
  /**
   * Starts the execution of the task's workflow, input `{ taskId }`, named after the task (starting
   * it twice starts one), and answers its ARN.
   */
  start(task: TaskRecord): Promise<string>;
  /** Stops the execution; the task's state is the caller's to write. */
  stop(executionArn: string, reason: string): Promise<void>;
}

/** The task-worker function's input, as the state machine sends it. */
export type WorkerEvent =
  | { readonly action: 'start'; readonly taskId: string }
  | { readonly action: 'slice'; readonly taskId: string }
  /** `error`: the States error of the state that failed (`Error`, `Cause`), from the Catch */
  | { readonly action: 'fail'; readonly taskId: string; readonly error: { Error?: string; Cause?: string } }
  /**
   * The execution ended without the task ending (Step Functions' status change, through an
   * EventBridge rule): timed out, stopped from outside kloud, or failed where no Catch records it
   */
  | { readonly action: 'ended'; readonly taskId: string; readonly status: ExecutionEnd }
  /** the backup workflow's stages */
  | BackupEvent
  /** the restore workflow's retrieval steps */
  | RetrievalEvent;

/** How an execution ended without reaching its own end: Step Functions' status names. */
export type ExecutionEnd = 'FAILED' | 'TIMED_OUT' | 'ABORTED';

/** The task-worker function's answer to `slice` (and `start`): whether the state machine loops again. */
export interface WorkerAnswer {
  readonly done: boolean;
}

/** The task-worker function's answer to any action. */
export type WorkerReply = WorkerAnswer | BackupAnswer | RetrievalAnswer;
