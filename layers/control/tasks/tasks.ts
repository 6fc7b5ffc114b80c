/**
 * The Tasks API: create a task of any registered type (task-kinds.ts) on a ready app, list, show
 * and cancel. Creating writes the task `queued` and starts its execution; with an Idempotency-Key
 * a repeat answers the task the first request created (task-claims.ts).
 *
 * Order of writes, without transactions: the key claim, the app's readiness, the lease, the task,
 * the start. A failure before the task exists frees what was claimed; a failure to start ends the
 * task as failed. A repeat with its key answers the task even once the app is no longer ready.
 */
import type { Page } from '../data/table.js';
import { Conflict } from '../errors.js';
import { logger } from '../runtime/observability.js';
import type { StoreAppRecord } from '../store-apps/store-app.js';
import { newTaskId, publicTask, type Task, type TaskRecord, type TaskType } from './task.js';
import { requestFingerprint, type TaskClaims } from './task-claims.js';
import type { CreationContext, TaskKind } from './task-kinds.js';
import type { TaskLifecycle } from './task-lifecycle.js';
import type { TaskFilter, TaskRepository } from './task-repository.js';
import type { TaskRunner } from './task-runner.js';

/** Who asks, as the API's edge read it from the request. */
export interface Caller {
  /** the IAM principal's ARN; `local` in local mode */
  readonly principal: string;
  readonly idempotencyKey?: string;
}

export interface Created {
  /** false when an earlier request with the same Idempotency-Key created it */
  readonly created: boolean;
  readonly task: Task;
}

export class Tasks {
  constructor(
    private readonly repository: TaskRepository,
    private readonly claims: TaskClaims,
    private readonly lifecycle: TaskLifecycle,
    private readonly kinds: { readonly [type in TaskType]?: TaskKind },
    private readonly readyApp: (appId: string) => Promise<StoreAppRecord>,
    private readonly runner: TaskRunner,
    private readonly creation: CreationContext,
    private readonly now: () => number = Date.now,
  ) {}

  async create(
    type: TaskType,
    appId: string,
    parameters: Record<string, unknown>,
    caller: Caller,
  ): Promise<Created> {
    const kind = this.kinds[type];
    if (!kind) throw new Conflict(`this deployment does not run ${type} tasks`, 'UNSUPPORTED_TASK');
    const id = newTaskId(this.now());
    const key = caller.idempotencyKey;
    if (key !== undefined) {
      const fingerprint = requestFingerprint({ type, appId, parameters });
      const claim = await this.claims.claimKey(caller.principal, key, fingerprint, id);
      if (!claim.claimed) return { created: false, task: publicTask(claim.task) };
    }
    const queued: TaskRecord = {
      id,
      type,
      appId,
      parameters,
      state: 'queued',
      principal: caller.principal,
      createdAt: new Date(this.now()).toISOString(),
      version: 1,
      ...(key !== undefined && { idempotencyKey: key }),
    };
    let exclusive: Awaited<ReturnType<TaskKind['exclusiveOn']>>;
    let task: TaskRecord;
    try {
      await this.readyApp(appId);
      await kind.precheck(appId, parameters, this.creation);
      exclusive = await kind.exclusiveOn(appId, parameters, this.creation);
      if (exclusive) await this.claims.lease(exclusive.key, id, exclusive.what);
      task = { ...queued, ...(exclusive && { exclusiveKey: exclusive.key }) };
      await this.repository.insert(task);
    } catch (err) {
      // each frees only what this request holds (a conditional delete on the task's ID)
      if (exclusive) await this.claims.release(exclusive.key, id);
      if (key !== undefined) await this.claims.releaseKey(caller.principal, key, id);
      throw err;
    }
    await this.lifecycle.announce(task);
    return { created: true, task: publicTask(await this.start(task)) };
  }

  get(id: string): Promise<Task> {
    return this.repository.get(id).then(publicTask);
  }

  async list(filter: TaskFilter, limit: number, nextToken?: string): Promise<Page<Task>> {
    const page = await this.repository.list(filter, limit, nextToken);
    return { ...page, items: page.items.map(publicTask) };
  }

  /** Cancels a queued or running task (a running slice stops at its next unit); 409 once it has ended. */
  async cancel(id: string): Promise<Task> {
    const { moved, task } = await this.lifecycle.move(id, 'cancelled');
    if (!moved)
      throw new Conflict(`task ${id} has ended (${task.state}): there is nothing to cancel`, 'TASK_ENDED');
    if (task.executionArn)
      await this.runner.stop(task.executionArn, 'cancelled').catch((err: unknown) =>
        // the worker sees the task cancelled at its next slice anyway
        logger.warn('execution not stopped', { taskId: id, error: err as Error }),
      );
    return publicTask(task);
  }

  /** Starts the task's execution and records it; a task that cannot start ends as failed. */
  private async start(task: TaskRecord): Promise<TaskRecord> {
    let executionArn: string;
    try {
      executionArn = await this.runner.start(task);
    } catch (err) {
      logger.error('task not started', { taskId: task.id, error: err as Error });
      const { task: failed } = await this.lifecycle.move(task.id, 'failed', {
        failure: {
          code: 'NOT_STARTED',
          message: `the task could not be started: create it again; the logs have it under task ID ${task.id}`,
        },
      });
      return failed;
    }
    const { task: recorded } = await this.repository.update(task.id, () => ({ executionArn }));
    return recorded;
  }
}
