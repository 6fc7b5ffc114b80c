/**
 * PLACEHOLDER so that this branch compiles: the lead's step-functions-runner.ts replaces this
 * file at merge (StartExecution of the task state machine, StopExecution).
 */
import type { SFNClient } from '@aws-sdk/client-sfn';
import type { TaskRecord } from './task.js';
import type { TaskRunner } from './task-runner.js';

export class StepFunctionsTaskRunner implements TaskRunner {
  constructor(
    readonly client: SFNClient,
    readonly stateMachineArn: string,
  ) {}

  start(task: TaskRecord): Promise<string> {
    return Promise.reject(new Error(`no Step Functions runner in this branch (task ${task.id})`));
  }

  stop(): Promise<void> {
    return Promise.reject(new Error('no Step Functions runner in this branch'));
  }
}
