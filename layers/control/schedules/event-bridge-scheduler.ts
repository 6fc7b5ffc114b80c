/**
 * Schedules as EventBridge Scheduler schedules in the stack's own group, named after the
 * schedule's ID. Each one's target is the scheduled-task function, invoked with Scheduler's role
 * and the input `{scheduleId, scheduledTime}`, the time filled in by Scheduler per run (the
 * run's idempotency key: Scheduler delivers at least once).
 */
import {
  CreateScheduleCommand,
  DeleteScheduleCommand,
  ResourceNotFoundException,
  type SchedulerClient,
  UpdateScheduleCommand,
  ValidationException,
} from '@aws-sdk/client-scheduler';
import { Unprocessable } from '../errors.js';
import type { ScheduleRecord } from './schedule.js';
import type { ScheduleBackend } from './schedule-backend.js';

export interface SchedulerTarget {
  /** the stack's schedule group */
  readonly group: string;
  /** the role Scheduler invokes the target with (it may invoke only that function) */
  readonly roleArn: string;
  /** the scheduled-task function */
  readonly functionArn: string;
}

export class EventBridgeScheduler implements ScheduleBackend {
  constructor(
    private readonly client: SchedulerClient,
    private readonly target: SchedulerTarget,
  ) {}

  async create(schedule: ScheduleRecord): Promise<void> {
    await this.send(() => this.client.send(new CreateScheduleCommand(this.definition(schedule))));
  }

  async update(schedule: ScheduleRecord): Promise<void> {
    await this.send(() => this.client.send(new UpdateScheduleCommand(this.definition(schedule))));
  }

  async delete(scheduleId: string): Promise<void> {
    try {
      await this.client.send(new DeleteScheduleCommand({ Name: scheduleId, GroupName: this.target.group }));
    } catch (err) {
      if (!(err instanceof ResourceNotFoundException)) throw err;
    }
  }

  private definition(schedule: ScheduleRecord) {
    return {
      Name: schedule.id,
      GroupName: this.target.group,
      ScheduleExpression: schedule.expression,
      ScheduleExpressionTimezone: schedule.timezone,
      State: schedule.enabled ? ('ENABLED' as const) : ('DISABLED' as const),
      // each run at its time: a window would make scheduled-time differ from when it runs
      FlexibleTimeWindow: { Mode: 'OFF' as const },
      Description: `kloud schedule ${schedule.name}`.slice(0, 512),
      Target: {
        Arn: this.target.functionArn,
        RoleArn: this.target.roleArn,
        Input: JSON.stringify({ scheduleId: schedule.id, scheduledTime: '<aws.scheduler.scheduled-time>' }),
      },
    };
  }

  /** Scheduler's refusal of an expression or time zone is the caller's (422), not ours. */
  private async send(call: () => Promise<unknown>): Promise<void> {
    try {
      await call();
    } catch (err) {
      if (err instanceof ValidationException)
        throw new Unprocessable(
          `EventBridge Scheduler refused the schedule: ${err.message}`,
          'SCHEDULE_REFUSED',
        );
      throw err;
    }
  }
}
