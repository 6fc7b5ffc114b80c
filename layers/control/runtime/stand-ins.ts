/**
 * Local mode's stand-ins for the AWS services that have no local protocol emulator here (the
 * Step Functions API that starts executions, EventBridge, EventBridge Scheduler): installed by local/ before the
 * handlers first build their services, which then use them instead of the AWS clients.
 * Everything else (DynamoDB, S3) is reached by its real protocol.
 */
import type { ScheduleBackend } from '../schedules/schedule-backend.js';
import type { TaskEventPublisher } from '../tasks/task-events.js';
import type { TaskRunner } from '../tasks/task-runner.js';

export interface StandIns {
  readonly taskRunner?: TaskRunner;
  readonly taskEvents?: TaskEventPublisher;
  /** local mode's croner scheduler instead of EventBridge Scheduler (schedules, B) */
  readonly scheduleBackend?: ScheduleBackend;
}

let installed: StandIns = {};

export function installStandIns(standIns: StandIns): void {
  installed = standIns;
}

export function standIns(): StandIns {
  return installed;
}
