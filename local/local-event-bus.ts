/**
 * Local mode's EventBridge: each task state change is written to the log as the event
 * EventBridge would deliver (source `kloud`, detail type `Task State Change`), and kept for
 * in-process readers (tests) in the order published.
 */
import {
  EVENT_SOURCE,
  TASK_STATE_CHANGE,
  type TaskEventPublisher,
  type TaskStateChange,
} from '../layers/control/tasks/task-events.js';

export interface LocalEvent {
  readonly source: typeof EVENT_SOURCE;
  readonly 'detail-type': typeof TASK_STATE_CHANGE;
  readonly time: string;
  readonly detail: TaskStateChange;
}

export class LocalEventBus implements TaskEventPublisher {
  readonly events: LocalEvent[] = [];
  private readonly listeners = new Set<(event: LocalEvent) => void>();

  constructor(private readonly log: (line: string) => void) {}

  async publish(change: TaskStateChange): Promise<void> {
    const event: LocalEvent = {
      source: EVENT_SOURCE,
      'detail-type': TASK_STATE_CHANGE,
      time: change.at,
      detail: change,
    };
    this.events.push(event);
    this.log(JSON.stringify({ level: 'INFO', message: 'event', event }));
    for (const listener of this.listeners) listener(event);
  }

  /** Calls `listener` with every event published from now on; the returned function stops it. */
  subscribe(listener: (event: LocalEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
}
