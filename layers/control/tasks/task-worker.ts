/**
 * What the task state machine calls (the task-worker function): `start` moves a queued task to
 * running, each `slice` runs one slice of its work and saves the checkpoint or the result, `fail`
 * records why a state failed. The answer's `done` ends the state machine's loop: when the task
 * ended, whoever ended it (a cancel, a failure, the work's last slice).
 */
import { ApiError } from '../errors.js';
import { engineAnswer, isKlosetError } from '../engine/engine-answers.js';
import { logger } from '../runtime/observability.js';
import { isFinal, type TaskFailure, type TaskRecord } from './task.js';
import type { TaskContext, TaskKind } from './task-kinds.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import { ProgressWriter } from './task-progress.js';
import type { TaskRepository } from './task-repository.js';
import type { RetrievalAnswer, RetrievalEvent } from './restore/retrieval-steps.js';
import type { ExecutionEnd, WorkerAnswer, WorkerEvent, WorkerReply } from './task-runner.js';

/** Kept free at the end of an invocation: the unit under way (a pack) and the checkpoint's write. */
export const SAFETY_MARGIN_MS = 30_000;

export interface WorkerOptions {
  /** caps each slice's budget (KLOUD_TASK_SLICE_MS) */
  readonly sliceMs?: number;
  readonly now?: () => number;
}

const DONE: WorkerAnswer = { done: true };
const MORE: WorkerAnswer = { done: false };

/** Why a slice (or a backup's stage) failed, as the user may read it: the typed errors' words, nothing else. */
export function failureOf(err: unknown): TaskFailure | undefined {
  if (isKlosetError(err)) err = engineAnswer(err);
  return err instanceof ApiError ? { code: err.code, message: err.message } : undefined;
}

function unexpected(taskId: string): TaskFailure {
  return {
    code: 'INTERNAL',
    message: `the task failed unexpectedly; the logs have it under task ID ${taskId}`,
  };
}

/** Why a task failed when its execution ended without it. */
const EXECUTION_ENDS: Readonly<Record<ExecutionEnd, (taskId: string) => TaskFailure>> = {
  FAILED: unexpected,
  TIMED_OUT: () => ({
    code: 'TIMED_OUT',
    message: 'the task ran past the time limit of its workflow; start it again if it is still wanted',
  }),
  ABORTED: () => ({
    code: 'STOPPED',
    message:
      'the execution running the task was stopped outside kloud; start the task again if it is still wanted',
  }),
};

export class TaskWorker {
  private readonly now: () => number;

  constructor(
    private readonly repository: TaskRepository,
    private readonly lifecycle: TaskLifecycle,
    private readonly kinds: { readonly [type: string]: TaskKind | undefined },
    private readonly context: TaskContext,
    private readonly options: WorkerOptions = {},
  ) {
    this.now = options.now ?? Date.now;
  }

  /** `remainingMs`: what the invocation has left (Lambda's getRemainingTimeInMillis). */
  async handle(event: WorkerEvent, remainingMs: number): Promise<WorkerReply> {
    logger.appendKeys({ taskId: event.taskId, action: event.action });
    switch (event.action) {
      case 'start':
        return this.start(event.taskId);
      case 'fail':
        return this.fail(event.taskId, event.error);
      case 'ended':
        return this.ended(event.taskId, event.status);
      case 'slice':
        return this.slice(event.taskId, remainingMs);
      case 'plan':
      case 'batch':
      case 'commit':
      case 'record':
        return this.context.backup.handle(event, remainingMs);
      case 'plan-restore':
      case 'request-retrieval':
      case 'poll-retrieval':
        return this.retrieve(event);
    }
  }

  /** A step of a cold restore's retrieval; a failure the user can act on (a tier not offered) ends the task. */
  private async retrieve(event: RetrievalEvent): Promise<RetrievalAnswer> {
    try {
      return await this.context.retrieval.handle(event);
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) throw err;
      await this.lifecycle.finish(event.taskId, 'failed', { failure });
      return { next: 'end', waitSeconds: 0 };
    }
  }

  /** Queued → running; a task cancelled before it started is done. */
  private async start(taskId: string): Promise<WorkerAnswer> {
    const { task } = await this.lifecycle.move(taskId, 'running');
    return task.state === 'running' ? MORE : DONE;
  }

  private async slice(taskId: string, remainingMs: number): Promise<WorkerAnswer> {
    let task = await this.repository.get(taskId);
    if (isFinal(task.state)) return this.stopped(task);
    if (task.state === 'queued' && (await this.start(taskId)).done) return DONE;
    task = await this.repository.get(taskId);
    const kind = this.kinds[task.type];
    if (!kind)
      return this.end(task, 'failed', {
        failure: { code: 'UNSUPPORTED_TASK', message: `this deployment does not run ${task.type} tasks` },
      });
    const started = this.now();
    const budget = Math.min(remainingMs - SAFETY_MARGIN_MS, this.options.sliceMs ?? Infinity);
    const progress = new ProgressWriter(this.repository, task, this.now);
    let outcome;
    try {
      outcome = await kind.slice(this.context, {
        task,
        parameters: task.parameters,
        checkpoint: task.checkpoint,
        deadline: started + Math.max(budget, 0),
        signal: progress.signal,
        report: (p) => progress.report(p),
      });
    } catch (err) {
      const failure = failureOf(err);
      if (!failure) {
        // the execution's Catch calls `fail`, which records where to look: here
        logger.error('slice failed', { type: task.type, error: err as Error });
        throw err;
      }
      await progress.settle();
      return this.end(task, 'failed', { failure });
    }
    const latest = await progress.settle();
    logger.info('slice', { type: task.type, done: outcome.done, ms: this.now() - started });
    if (outcome.done) {
      const failure = kind.failureOf(outcome.result);
      return this.end(task, failure ? 'failed' : 'succeeded', {
        result: outcome.result,
        ...(failure && { failure }),
        ...(latest && { progress: latest }),
      });
    }
    // the checkpoint is kept only while the task runs: a cancel meanwhile ends it here
    const saved = await this.repository.update(taskId, (t) =>
      t.state === 'running'
        ? { checkpoint: outcome.checkpoint, ...(latest && { progress: latest }) }
        : undefined,
    );
    return saved.written ? MORE : this.stopped(saved.task);
  }

  private async end(
    task: TaskRecord,
    state: 'succeeded' | 'failed',
    change: Partial<TaskRecord>,
  ): Promise<WorkerAnswer> {
    const { moved, task: now } = await this.lifecycle.finish(task.id, state, change);
    return moved ? DONE : this.stopped(now);
  }

  /** The work has stopped for a task that ended meanwhile (a cancel, its execution's end): its lease is free now. */
  private async stopped(task: TaskRecord): Promise<WorkerAnswer> {
    await this.lifecycle.letGo(task);
    return DONE;
  }

  /**
   * A state of the execution failed (the Catch of the state machine): the error's text is
   * internal, so the task says where to look, not what it was, unless the work recorded its
   * reason (a backup's batch worker, in staging: the Map's error does not carry it). The Catch
   * follows the failed invocation's end, so the work has stopped, except while the backup
   * workflow's Map runs, whose other batch workers may still be running: the lease stays with them.
   */
  private async fail(taskId: string, error: { Error?: string; Cause?: string }): Promise<WorkerAnswer> {
    logger.error('task failed', { error: error.Error, cause: error.Cause });
    const timedOut = error.Error === 'States.Timeout' || error.Error === 'Sandbox.Timedout';
    const task = await this.repository.get(taskId);
    const backup = task.type === 'backup';
    const parallel = backup && this.context.backup.batchWorkersMayRun(task);
    const recorded = backup ? await this.context.backup.batchFailure(task) : undefined;
    // batch workers may still run: an end by someone else; else the work's own (its lease free at once)
    const { moved, task: now } = await this.lifecycle[parallel ? 'move' : 'finish'](taskId, 'failed', {
      failure: recorded
        ? recorded
        : timedOut
          ? {
              code: 'TIMED_OUT',
              message: `a slice of the task ran past its time limit; the logs have it under task ID ${taskId}`,
            }
          : unexpected(taskId),
    });
    // a task that ended meanwhile (a cancel) left its lease to the work, which has now stopped
    return moved || parallel ? DONE : this.stopped(now);
  }

  /**
   * The execution ended and nothing ended the task: it must not stay `running` for ever. A task
   * that did end (the usual case: every end of kloud's own comes first) stays as it is.
   */
  private async ended(taskId: string, status: ExecutionEnd): Promise<WorkerAnswer> {
    const { moved } = await this.lifecycle.move(taskId, 'failed', {
      failure: EXECUTION_ENDS[status](taskId),
    });
    if (moved) logger.error('execution ended with its task unfinished', { status });
    return DONE;
  }
}
