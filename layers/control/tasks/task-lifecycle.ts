/**
 * A task's state changes, each in one place: the conditional write, the event, and at the end the
 * release of its lease. A failed publish is logged and never fails the task.
 */
import { logger } from '../runtime/observability.js';
import { isFinal, type TaskRecord, type TaskState } from './task.js';
import type { TaskClaims } from './task-claims.js';
import type { TaskEventPublisher } from './task-events.js';
import type { TaskChange, TaskRepository, Transition } from './task-repository.js';

export class TaskLifecycle {
  constructor(
    private readonly repository: TaskRepository,
    private readonly claims: TaskClaims,
    private readonly events: TaskEventPublisher,
    private readonly now: () => number = Date.now,
  ) {}

  /** The task's slice has stopped: if it was cancelled, the lease the cancel left that slice is free. */
  async letGo(task: TaskRecord): Promise<void> {
    if (task.state === 'cancelled' && task.exclusiveKey)
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
   * start or the end; a final state drops the checkpoint and frees the lease, but a cancel of a
   * running task leaves the lease to its last slice (`letGo`): that slice may still be writing.
   */
  async move(id: string, to: TaskState, change: TaskChange = {}): Promise<Transition> {
    const at = new Date(this.now()).toISOString();
    const stamped: TaskChange = {
      // a task back to running from a wait keeps its start (the change gives it)
      ...(to === 'running' && { startedAt: at }),
      ...change,
      ...(isFinal(to) && { endedAt: at, checkpoint: undefined }),
    };
    const transition = await this.repository.transition(id, to, stamped);
    if (!transition.moved) return transition;
    const { task } = transition;
    const sliceMayRun = to === 'cancelled' && transition.previousState !== 'queued';
    if (isFinal(to) && task.exclusiveKey && !sliceMayRun)
      await this.claims.release(task.exclusiveKey, task.id);
    await this.announce(task, transition.previousState);
    return transition;
  }
}
