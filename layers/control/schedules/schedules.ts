/**
 * The Schedules API: create, list, show, replace, delete, pause and resume. A schedule's task is
 * checked as its own route would check it (the type's parameters schema) and its app must exist;
 * it need not be ready yet: a run on an app that is not ready is a failed task, visible as the
 * schedule's last run (scheduled-runs.ts).
 *
 * Order of writes: the item first, then the backend. A backend that refuses undoes the item
 * (create) or puts the previous definition back (replace, pause, resume), so the item and what
 * fires agree; a delivery that still comes for a schedule deleted or paused meanwhile does
 * nothing, as each run reads the item first.
 */
import { randomUUID } from 'node:crypto';
import type { Page } from '../data/table.js';
import { Conflict, Unprocessable } from '../errors.js';
import { logger } from '../runtime/observability.js';
import type { StoreAppRepository } from '../store-apps/store-app-repository.js';
import type { TaskType } from '../tasks/task.js';
import type { TaskKind } from '../tasks/task-kinds.js';
import type { TaskRepository } from '../tasks/task-repository.js';
import { parseInput } from '../validation.js';
import type {
  CreateScheduleBody,
  Schedule,
  ScheduledTask,
  ScheduleRecord,
  UpdateScheduleBody,
} from './schedule.js';
import type { ScheduleBackend } from './schedule-backend.js';
import { nextRuns } from './schedule-expression.js';
import type { ScheduleRepository } from './schedule-repository.js';

const NEXT_RUNS = 3;

export class Schedules {
  constructor(
    private readonly repository: ScheduleRepository,
    private readonly backend: ScheduleBackend,
    private readonly apps: StoreAppRepository,
    private readonly tasks: TaskRepository,
    private readonly kinds: { readonly [type in TaskType]?: TaskKind },
    private readonly now: () => number = Date.now,
  ) {}

  async create(body: CreateScheduleBody): Promise<Schedule> {
    const at = new Date(this.now()).toISOString();
    const schedule: ScheduleRecord = {
      id: randomUUID(),
      name: body.name,
      expression: body.expression,
      timezone: body.timezone,
      task: await this.checkTask(body.task),
      enabled: body.enabled,
      createdAt: at,
      updatedAt: at,
      version: 1,
    };
    await this.repository.insert(schedule);
    try {
      await this.backend.create(schedule);
    } catch (err) {
      await this.repository.remove(schedule.id).catch(() => undefined);
      throw err;
    }
    return this.view(schedule);
  }

  async get(id: string): Promise<Schedule> {
    return this.view(await this.repository.get(id));
  }

  async list(limit: number, nextToken?: string): Promise<Page<Schedule>> {
    const page = await this.repository.list(limit, nextToken);
    return { ...page, items: await Promise.all(page.items.map((s) => this.view(s))) };
  }

  /** Replaces the definition (name, expression, time zone, task); enabled stays as it is. */
  async update(id: string, body: UpdateScheduleBody): Promise<Schedule> {
    const schedule = await this.repository.get(id);
    const task = await this.checkTask(body.task);
    return this.change(schedule, { ...body, task });
  }

  /** Pauses (false) or resumes (true) the schedule; 409 when it already is so. */
  async setEnabled(id: string, enabled: boolean): Promise<Schedule> {
    const schedule = await this.repository.get(id);
    if (schedule.enabled === enabled)
      throw new Conflict(
        `schedule ${id} is ${enabled ? 'running' : 'paused'} already`,
        enabled ? 'SCHEDULE_RUNNING' : 'SCHEDULE_PAUSED',
      );
    return this.change(schedule, { enabled });
  }

  /** Deletes the schedule (Scheduler's first, so nothing fires for an item that is gone); its tasks stay. */
  async remove(id: string): Promise<void> {
    await this.repository.get(id);
    await this.backend.delete(id);
    await this.repository.remove(id);
  }

  private async change(schedule: ScheduleRecord, change: Partial<ScheduleRecord>): Promise<Schedule> {
    const saved = await this.repository.save({
      ...schedule,
      ...change,
      updatedAt: new Date(this.now()).toISOString(),
    });
    try {
      await this.backend.update(saved);
    } catch (err) {
      await this.repository.save({ ...schedule, version: saved.version }).catch((undo: unknown) =>
        logger.error('schedule not put back after the backend refused', {
          scheduleId: schedule.id,
          error: undo as Error,
        }),
      );
      throw err;
    }
    return this.view(saved);
  }

  /** The task with its parameters as its route takes them (defaults filled in), on an app that exists. */
  private async checkTask(task: ScheduledTask): Promise<ScheduledTask> {
    const kind = this.kinds[task.type];
    if (!kind)
      throw new Unprocessable(
        `task.type: this deployment does not run ${task.type} tasks`,
        'UNSUPPORTED_TASK',
      );
    const parameters = parseInput(kind.parameters, task.parameters, 'body.task.parameters') as Record<
      string,
      unknown
    >;
    await this.apps.get(task.appId);
    return { ...task, parameters };
  }

  private async view(schedule: ScheduleRecord): Promise<Schedule> {
    const now = new Date(this.now());
    const runs = schedule.enabled
      ? nextRuns(schedule.expression, schedule.timezone, now, NEXT_RUNS, new Date(schedule.updatedAt))
      : [];
    const lastTask = schedule.lastRun && (await this.tasks.find(schedule.lastRun.taskId));
    return {
      id: schedule.id,
      name: schedule.name,
      expression: schedule.expression,
      timezone: schedule.timezone,
      task: schedule.task,
      enabled: schedule.enabled,
      nextRuns: runs.map((run) => run.toISOString()),
      ...(schedule.lastRun && lastTask && { lastRun: { ...schedule.lastRun, state: lastTask.state } }),
      createdAt: schedule.createdAt,
      updatedAt: schedule.updatedAt,
    };
  }
}
