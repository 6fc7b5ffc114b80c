/**
 * The task domain objects of the tasks API function: no engine here (the store is opened only by
 * the task-worker function, task-worker-service.ts). Local mode's stand-ins replace the Step
 * Functions runner and EventBridge (stand-ins.ts).
 */
import { EventBridgeClient } from '@aws-sdk/client-eventbridge';
import { SFNClient } from '@aws-sdk/client-sfn';
import { EventBridgePublisher } from '../events/event-bridge-publisher.js';
import { readyApp } from '../store-apps/ready-app.js';
import { StepFunctionsTaskRunner } from '../tasks/step-functions-runner.js';
import { DestinationTargets } from '../tasks/restore/destination-target.js';
import { TaskClaims } from '../tasks/task-claims.js';
import type { TaskEventPublisher } from '../tasks/task-events.js';
import { TASK_KINDS } from '../tasks/task-kinds.js';
import { TaskLifecycle } from '../tasks/task-lifecycle.js';
import { TaskRepository } from '../tasks/task-repository.js';
import type { TaskRunner } from '../tasks/task-runner.js';
import { Tasks } from '../tasks/tasks.js';
import { tracer } from './observability.js';
import { services } from './services.js';
import { standIns } from './stand-ins.js';

export interface TaskParts {
  readonly repository: TaskRepository;
  readonly claims: TaskClaims;
  readonly lifecycle: TaskLifecycle;
}

let parts: TaskParts | undefined;
let builtTasks: Tasks | undefined;

/** What the API and the worker share: the table's tasks and claims, state changes with their events. */
export function taskParts(): TaskParts {
  if (!parts) {
    const { settings, table } = services();
    const repository = new TaskRepository(table);
    const claims = new TaskClaims(table, repository);
    const events: TaskEventPublisher =
      standIns().taskEvents ??
      new EventBridgePublisher(
        tracer.captureAWSv3Client(new EventBridgeClient({})),
        settings.eventBus ?? 'default',
      );
    parts = { repository, claims, lifecycle: new TaskLifecycle(repository, claims, events) };
  }
  return parts;
}

function taskRunner(): TaskRunner {
  const { settings } = services();
  const standIn = standIns().taskRunner;
  if (standIn) return standIn;
  if (!settings.stateMachineArns)
    throw new Error('the environment variable KLOUD_TASK_STATE_MACHINE_ARN is not set');
  return new StepFunctionsTaskRunner(tracer.captureAWSv3Client(new SFNClient({})), settings.stateMachineArns);
}

export function tasks(): Tasks {
  if (!builtTasks) {
    const { repository, claims, lifecycle } = taskParts();
    const { settings, repository: apps, secrets } = services();
    builtTasks = new Tasks(
      repository,
      claims,
      lifecycle,
      TASK_KINDS,
      (appId) => readyApp(apps, appId),
      taskRunner(),
      {
        destinations: new DestinationTargets(settings, apps, secrets),
        readyApp: (id) => readyApp(apps, id),
      },
    );
  }
  return builtTasks;
}
