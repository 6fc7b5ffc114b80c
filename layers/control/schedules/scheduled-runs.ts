/**
 * One run of a schedule, as the scheduled-task function gets it from Scheduler: the schedule's
 * task created through the same Tasks.create as the API's, under the principal `schedule:<id>`
 * with the Idempotency-Key `schedule:<id>:<scheduledTime>`. Scheduler delivers at least once: a
 * repeat of a delivery finds the key claimed and answers the task the first one made.
 *
 * A run the control plane refuses (the app is gone or not ready, the store is busy with another
 * task, a sync's peer is not ready) is not lost: it becomes a task that failed at once, with the
 * refusal as its failure, so the schedule's last run and the task list show it and its state
 * change is an event like any other. A schedule deleted or paused meanwhile runs nothing.
 */
import { ApiError } from '../errors.js';
import { logger } from '../runtime/observability.js';
import { newTaskId, type TaskRecord } from '../tasks/task.js';
import { requestFingerprint, type TaskClaims } from '../tasks/task-claims.js';
import type { TaskLifecycle } from '../tasks/task-lifecycle.js';
import type { TaskRepository } from '../tasks/task-repository.js';
import type { Caller, Tasks } from '../tasks/tasks.js';
import type { ScheduledRunEvent, ScheduledTask } from './schedule.js';
import type { ScheduleRepository } from './schedule-repository.js';

export type RunOutcome =
  | { readonly outcome: 'skipped'; readonly reason: 'deleted' | 'paused' }
  | { readonly outcome: 'started' | 'repeated' | 'refused'; readonly taskId: string };

/** Who a schedule's runs are, and the key that makes a repeated delivery one task. */
export function scheduleCaller({ scheduleId, scheduledTime }: ScheduledRunEvent): Required<Caller> {
  return { principal: `schedule:${scheduleId}`, idempotencyKey: `schedule:${scheduleId}:${scheduledTime}` };
}

export class ScheduledRuns {
  constructor(
    private readonly schedules: ScheduleRepository,
    private readonly tasks: Tasks,
    private readonly parts: {
      readonly repository: TaskRepository;
      readonly claims: TaskClaims;
      readonly lifecycle: TaskLifecycle;
    },
    private readonly now: () => number = Date.now,
  ) {}

  async run(event: ScheduledRunEvent): Promise<RunOutcome> {
    const schedule = await this.schedules.find(event.scheduleId);
    if (!schedule || !schedule.enabled) {
      const reason = schedule ? 'paused' : 'deleted';
      logger.info('scheduled run skipped', { ...event, reason });
      return { outcome: 'skipped', reason };
    }
    const { type, appId, parameters } = schedule.task;
    const caller = scheduleCaller(event);
    let outcome: RunOutcome;
    try {
      const { created, task } = await this.tasks.create(type, appId, parameters, caller);
      outcome = { outcome: created ? 'started' : 'repeated', taskId: task.id };
    } catch (err) {
      // a refusal the caller of the API would have got (4xx); anything else is retried by the invoker
      if (!(err instanceof ApiError) || err.status >= 500) throw err;
      const task = await this.refusedTask(schedule.task, caller, err);
      outcome = { outcome: 'refused', taskId: task.id };
    }
    await this.schedules.recordRun(schedule.id, {
      taskId: outcome.taskId,
      scheduledTime: event.scheduledTime,
      at: new Date(this.now()).toISOString(),
    });
    logger.info('scheduled run', { ...event, ...outcome });
    return outcome;
  }

  /** A task that failed at once with the refusal; one per delivery key, as a created task is. */
  private async refusedTask(
    task: ScheduledTask,
    caller: Required<Caller>,
    refusal: ApiError,
  ): Promise<TaskRecord> {
    const { repository, claims, lifecycle } = this.parts;
    const id = newTaskId(this.now());
    const claim = await claims.claimKey(
      caller.principal,
      caller.idempotencyKey,
      requestFingerprint({ type: task.type, appId: task.appId, parameters: task.parameters }),
      id,
    );
    if (!claim.claimed) return claim.task;
    const at = new Date(this.now()).toISOString();
    const failed: TaskRecord = {
      id,
      type: task.type,
      appId: task.appId,
      parameters: task.parameters,
      state: 'failed',
      failure: { code: refusal.code, message: `the scheduled run was refused: ${refusal.message}` },
      principal: caller.principal,
      createdAt: at,
      endedAt: at,
      version: 1,
      idempotencyKey: caller.idempotencyKey,
    };
    await repository.insert(failed);
    await lifecycle.announce(failed);
    return failed;
  }
}
