/**
 * A schedule: a task (type, app, parameters) started at the times of an EventBridge Scheduler
 * expression in a time zone. The item is the truth: EventBridge Scheduler (or local mode's
 * scheduler) only says when; each delivery reads the item and does nothing for a schedule that
 * is gone or paused meanwhile (scheduled-runs.ts).
 */
import { z } from 'zod';
import { AppId } from '../store-apps/store-app.js';
import { TASK_STATES, TASK_TYPES } from '../tasks/task.js';
import { ScheduleExpression, TimeZone } from './schedule-expression.js';

export const ScheduleId = z.strictObject({
  scheduleId: z.string().regex(/^[0-9a-f-]{36}$/, 'expected a schedule ID as the API gave it'),
});

const ScheduleName = z
  .string()
  .regex(/^[A-Za-z0-9][A-Za-z0-9 ._-]{0,99}$/, 'expected 1-100 letters, digits, spaces, ".", "_" or "-"')
  .meta({ description: 'a label for people (not unique)' });

export const ScheduledTask = z
  .strictObject({
    type: z.enum(TASK_TYPES),
    appId: AppId.shape.appId,
    parameters: z.record(z.string(), z.unknown()).default({}).meta({
      description:
        "the body the task's own route takes, checked as that route checks it; a maintenance's `retention` applies on each run instead of the app's",
    }),
  })
  .meta({ description: 'the task each run creates, as its own route would' });
export type ScheduledTask = z.infer<typeof ScheduledTask>;

/** PUT replaces the definition; `enabled` changes only through pause and resume. */
export const UpdateScheduleBody = z
  .strictObject({
    name: ScheduleName,
    expression: ScheduleExpression,
    timezone: TimeZone.default('UTC'),
    task: ScheduledTask,
  })
  .meta({ id: 'UpdateScheduleBody' });
export type UpdateScheduleBody = z.infer<typeof UpdateScheduleBody>;

export const CreateScheduleBody = UpdateScheduleBody.extend({
  enabled: z.boolean().default(true).meta({ description: 'false: created paused' }),
}).meta({ id: 'CreateScheduleBody' });
export type CreateScheduleBody = z.infer<typeof CreateScheduleBody>;

export const LastRun = z
  .object({
    taskId: z.string(),
    /** when the run was due (Scheduler's scheduled time) */
    scheduledTime: z.string(),
    /** when the run created (or found) its task */
    at: z.string(),
    state: z.enum(TASK_STATES),
  })
  .meta({ id: 'LastRun' });

export const Schedule = z
  .object({
    id: z.string(),
    name: ScheduleName,
    expression: z.string(),
    timezone: z.string(),
    task: ScheduledTask,
    enabled: z.boolean(),
    nextRuns: z.array(z.string()).meta({ description: 'the next three fire times (none while paused)' }),
    lastRun: LastRun.optional(),
    createdAt: z.string(),
    updatedAt: z.string(),
  })
  .meta({ id: 'Schedule' });
export type Schedule = z.infer<typeof Schedule>;

/** The schedule as the table keeps it. */
export interface ScheduleRecord {
  readonly id: string;
  readonly name: string;
  readonly expression: string;
  readonly timezone: string;
  readonly task: ScheduledTask;
  readonly enabled: boolean;
  readonly createdAt: string;
  /** also where a rate's periods count from: Scheduler starts a rate when it gets the schedule */
  readonly updatedAt: string;
  readonly version: number;
  /** the latest run's task (by scheduled time); its state is read from the task */
  readonly lastRun?: { readonly taskId: string; readonly scheduledTime: string; readonly at: string };
}

/** What Scheduler sends the scheduled-task function (and local mode's scheduler alike). */
export const ScheduledRunEvent = z.strictObject({
  scheduleId: ScheduleId.shape.scheduleId,
  /** `<aws.scheduler.scheduled-time>`: the time this run was due, one per run */
  scheduledTime: z
    .string()
    .regex(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/, 'expected an ISO 8601 UTC time'),
});
export type ScheduledRunEvent = z.infer<typeof ScheduledRunEvent>;
