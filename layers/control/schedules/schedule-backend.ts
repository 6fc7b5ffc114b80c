/**
 * What fires schedules: EventBridge Scheduler in AWS (event-bridge-scheduler.ts), croner in local
 * mode's process (local/local-scheduler.ts). Each fire invokes the scheduled-task function with a
 * ScheduledRunEvent; a paused schedule is kept but does not fire.
 */
import type { ScheduleRecord } from './schedule.js';

export interface ScheduleBackend {
  create(schedule: ScheduleRecord): Promise<void>;
  /** replaces the expression, time zone and state (enabled or paused) */
  update(schedule: ScheduleRecord): Promise<void>;
  /** deletes it; one already gone is no error */
  delete(scheduleId: string): Promise<void>;
}
