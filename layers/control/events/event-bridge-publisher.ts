/** Task state changes as EventBridge events on the deployment's bus (KLOUD_EVENT_BUS). */
import { EventBridgeClient, PutEventsCommand } from '@aws-sdk/client-eventbridge';
import {
  EVENT_SOURCE,
  TASK_STATE_CHANGE,
  type TaskEventPublisher,
  type TaskStateChange,
} from '../tasks/task-events.js';

export class EventBridgePublisher implements TaskEventPublisher {
  constructor(
    private readonly client: EventBridgeClient,
    private readonly busName: string,
  ) {}

  async publish(change: TaskStateChange): Promise<void> {
    const out = await this.client.send(
      new PutEventsCommand({
        Entries: [
          {
            Source: EVENT_SOURCE,
            DetailType: TASK_STATE_CHANGE,
            EventBusName: this.busName,
            Resources: [],
            Detail: JSON.stringify(change),
          },
        ],
      }),
    );
    // PutEvents answers 200 with the entries it refused
    const refused = out.Entries?.[0];
    if ((out.FailedEntryCount ?? 0) > 0)
      throw new Error(
        `EventBridge refused the event: ${refused?.ErrorCode ?? ''} ${refused?.ErrorMessage ?? ''}`,
      );
  }
}
