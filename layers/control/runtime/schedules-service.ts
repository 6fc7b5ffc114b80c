/**
 * The schedules' domain objects: the API's (schedules function) and the runs' (scheduled-task
 * function). Local mode's stand-in replaces EventBridge Scheduler (stand-ins.ts).
 */
import { SchedulerClient } from '@aws-sdk/client-scheduler';
import { EventBridgeScheduler } from '../schedules/event-bridge-scheduler.js';
import type { ScheduleBackend } from '../schedules/schedule-backend.js';
import { ScheduleRepository } from '../schedules/schedule-repository.js';
import { ScheduledRuns } from '../schedules/scheduled-runs.js';
import { Schedules } from '../schedules/schedules.js';
import { TASK_KINDS } from '../tasks/task-kinds.js';
import { tracer } from './observability.js';
import { services } from './services.js';
import { standIns } from './stand-ins.js';
import { taskParts, tasks } from './tasks-service.js';

let builtSchedules: Schedules | undefined;
let builtRuns: ScheduledRuns | undefined;

function scheduleBackend(): ScheduleBackend {
  const standIn = standIns().scheduleBackend;
  if (standIn) return standIn;
  const { scheduler } = services().settings;
  if (!scheduler) throw new Error('the environment variable KLOUD_SCHEDULE_GROUP is not set');
  return new EventBridgeScheduler(tracer.captureAWSv3Client(new SchedulerClient({})), scheduler);
}

export function schedules(): Schedules {
  if (!builtSchedules) {
    const { table, repository: apps } = services();
    builtSchedules = new Schedules(
      new ScheduleRepository(table),
      scheduleBackend(),
      apps,
      taskParts().repository,
      TASK_KINDS,
    );
  }
  return builtSchedules;
}

export function scheduledRuns(): ScheduledRuns {
  return (builtRuns ??= new ScheduledRuns(new ScheduleRepository(services().table), tasks(), taskParts()));
}
