/**
 * Task state changes as events: EventBridge in AWS (`source: kloud`, detail type
 * `Task State Change`, on the account's default bus) so users route failures to their alerting;
 * in local mode the log and an in-process bus.
 */
import type { TaskFailure, TaskState, TaskType } from './task.js';

export const EVENT_SOURCE = 'kloud';
export const TASK_STATE_CHANGE = 'Task State Change';

export interface TaskStateChange {
  readonly taskId: string;
  readonly type: TaskType;
  readonly appId: string;
  readonly state: TaskState;
  readonly previousState?: TaskState;
  readonly failure?: TaskFailure;
  readonly at: string;
}

export interface TaskEventPublisher {
  publish(change: TaskStateChange): Promise<void>;
}
