/**
 * A task's state changes, each in one place: the conditional write, the event, and at the end the
 * release of its lease. A failed publish is logged and never fails the task.
 *
 * Who ends a task decides when its lease is free. The work's own last step (`finish`: a slice's
 * end, a backup's record, a failure a step made itself) leaves nothing of the work running, so
 * the lease is free at once. Anyone else (`move`: a cancel, the execution's Catch, the execution
 * watch) ends a running task while its work may go on: a slice, or a backup's batch workers, are
 * Lambda invocations that run on after their execution has stopped or failed. Such an end keeps
 * the lease until the work lets go of it (`letGo`) or for at most LAST_SLICE_MS, and says so on
 * the task (`workMayRunUntil`), for TaskClaims.lease to refuse with.
 */
import { logger } from '../runtime/observability.js';
import { isFinal, type TaskRecord, type TaskState } from './task.js';
import { LAST_SLICE_MS, type TaskClaims } from './task-claims.js';
import type { TaskEventPublisher } from './task-events.js';
import type { TaskChange, TaskRepository, Transition } from './task-repository.js';

/**
 * Whether work may still be running when someone other than the work ends a task in `from`: a
 * running task's, and a cold restore's waiting for its data unless it is cancelled (its execution
 * sits in a Wait, or in a poll that writes nothing once the task has ended).
 */
function workMayRunAfter(from: TaskState, to: TaskState): boolean {
  return from === 'running' || (from === 'waiting-for-retrieval' && to !== 'cancelled');
}

export class TaskLifecycle {
  constructor(
    private readonly repository: TaskRepository,
    private readonly claims: TaskClaims,
    private readonly events: TaskEventPublisher,
    private readonly now: () => number = Date.now,
  ) {}

  /** The task's work has stopped (a slice that found its task ended): the lease its end left to the work is free. */
  async letGo(task: TaskRecord): Promise<void> {
    if (task.workMayRunUntil !== undefined && task.exclusiveKey)
      await this.claims.release(task.exclusiveKey, task.id);
  }

  /** Publishes the task's state (a new task's `queued`, or a change from `previousState`). */
  async announce(task: TaskRecord, previousState?: TaskState): Promise<void> {
    try {
      await this.events.publish({
        taskId: task.id,
        type: task.type,
        appId: task.appId,
        state: task.state,
        ...(previousState && { previousState }),
        ...(task.failure && { failure: task.failure }),
        at: new Date(this.now()).toISOString(),
      });
    } catch (err) {
      logger.warn('task event not published', { taskId: task.id, state: task.state, error: err as Error });
    }
  }

  /**
   * Moves the task to `to` where its state allows (`moved` says whether it did), stamping the
   * start or the end; a final state drops the checkpoint and frees the lease, unless the task's
   * work may still be running (see above).
   */
  move(id: string, to: TaskState, change: TaskChange = {}): Promise<Transition> {
    return this.transition(id, to, change, false);
  }

  /** Ends the task by its work's own last step: nothing of the work runs on, the lease is free at once. */
  finish(id: string, to: 'succeeded' | 'failed', change: TaskChange = {}): Promise<Transition> {
    return this.transition(id, to, change, true);
  }

  private async transition(
    id: string,
    to: TaskState,
    change: TaskChange,
    byWork: boolean,
  ): Promise<Transition> {
    const at = this.now();
    const stamped = (from: TaskRecord): TaskChange => ({
      // a task back to running from a wait keeps its start (the change gives it)
      ...(to === 'running' && { startedAt: new Date(at).toISOString() }),
      ...change,
      ...(isFinal(to) && { endedAt: new Date(at).toISOString(), checkpoint: undefined }),
      ...(isFinal(to) &&
        !byWork &&
        workMayRunAfter(from.state, to) && { workMayRunUntil: new Date(at + LAST_SLICE_MS).toISOString() }),
    });
    const transition = await this.repository.transition(id, to, stamped);
    if (!transition.moved) return transition;
    const { task } = transition;
    if (isFinal(to) && task.exclusiveKey && task.workMayRunUntil === undefined)
      await this.claims.release(task.exclusiveKey, task.id);
    await this.announce(task, transition.previousState);
    return transition;
  }
}
