import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  Choice,
  Condition,
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  Succeed,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import { Construct } from 'constructs';
import { nagResource } from './nag-resource.js';

export interface TaskStateMachineProps {
  /** the task-worker function: answers `{ done }` to `start` and `slice`, records `fail` */
  readonly worker: IFunction;
  /** how long a task may run in all (default: 7 days; Step Functions allows a year) */
  readonly timeout?: Duration;
  /** log group of the executions (default: a new one kept a month) */
  readonly logRetention?: RetentionDays;
}

/** The state names, read as sentences: they are what a user sees in the console's graph. */
export const TASK_STATES = {
  start: 'Mark the task running',
  cancelledBeforeStart: 'Was it cancelled before it started?',
  slice: 'Work on the task for one invocation',
  done: 'Is the work done?',
  ended: 'The task has ended',
  recordFailure: 'Record why the task failed',
  failed: 'The task failed',
} as const;

/**
 * The task runner: one execution per task (named after it), which calls the worker for one
 * slice of the work after another until the worker says the work is done. A slice keeps within
 * its invocation's time and leaves a checkpoint in the task's item, so a task goes on past the
 * Lambda limit; the loop is Step Functions' instead of a function re-invoking itself, so it is
 * retried, visible and stoppable (docs/ARCHITECTURE.md, "Tasks").
 *
 * A slice that throws is retried twice (a killed or throttled invocation loses nothing: the
 * checkpoint is where the last slice left it); a failure the worker understands (a damaged
 * store, a refused destination) is recorded by the worker itself and ends the loop as `done`.
 */
export class TaskStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: TaskStateMachineProps) {
    super(scope, id);
    const call = (stateName: string, action: 'start' | 'slice') =>
      workerCall(this, stateName, props.worker, action, { 'done.$': '$.Payload.done' });

    const recordFailure = recordFailureStates(this, props.worker, TASK_STATES);

    const ended = new Succeed(this, TASK_STATES.ended, { stateName: TASK_STATES.ended });
    const slice = call(TASK_STATES.slice, 'slice');
    const start = call(TASK_STATES.start, 'start');
    for (const task of [start, slice]) task.addCatch(recordFailure, { resultPath: '$.error' });

    const definition = start.next(
      new Choice(this, TASK_STATES.cancelledBeforeStart, { stateName: TASK_STATES.cancelledBeforeStart })
        .when(Condition.booleanEquals('$.start.done', true), ended)
        .otherwise(
          slice.next(
            new Choice(this, TASK_STATES.done, { stateName: TASK_STATES.done })
              .when(Condition.booleanEquals('$.slice.done', true), ended)
              .otherwise(slice),
          ),
        ),
    );

    this.stateMachine = workflowStateMachine(this, definition, props);
  }
}

/**
 * A call of the worker for one state: `{ action, taskId }` in, the answer's fields picked by
 * `answer` into `$.<into>` (default: the action's name), with the retries every worker state shares.
 */
export function workerCall(
  scope: Construct,
  stateName: string,
  worker: IFunction,
  action: string,
  answer: Record<string, string>,
  into = action,
): LambdaInvoke {
  const invoke = new LambdaInvoke(scope, stateName, {
    stateName,
    lambdaFunction: worker,
    payload: TaskInput.fromObject({ action, taskId: JsonPath.stringAt('$.taskId') }),
    resultSelector: answer,
    resultPath: `$.${into}`,
    retryOnServiceExceptions: true,
  });
  // beyond the service exceptions retried above: throttling (many tasks at once), with patience
  invoke.addRetry({
    errors: ['Lambda.TooManyRequestsException'],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 8,
    jitterStrategy: JitterType.FULL,
  });
  // and an invocation that timed out or crashed
  invoke.addRetry({
    errors: [Errors.TASKS_FAILED, 'Sandbox.Timedout'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 2,
  });
  return invoke;
}

/** The Catch's target: the worker records why the task failed, then the execution fails. */
export function recordFailureStates(
  scope: Construct,
  worker: IFunction,
  names: { readonly recordFailure: string; readonly failed: string },
): IChainable {
  return new LambdaInvoke(scope, names.recordFailure, {
    stateName: names.recordFailure,
    lambdaFunction: worker,
    payload: TaskInput.fromObject({
      action: 'fail',
      taskId: JsonPath.stringAt('$.taskId'),
      error: JsonPath.objectAt('$.error'),
    }),
    resultPath: JsonPath.DISCARD,
    retryOnServiceExceptions: true,
  }).next(new Fail(scope, names.failed, { stateName: names.failed }));
}

/** A workflow's standard state machine: its timeout, its logs without payloads, X-Ray. */
export function workflowStateMachine(
  scope: Construct,
  definition: IChainable,
  props: TaskStateMachineProps,
): StateMachine {
  const logs = new LogGroup(scope, 'Logs', {
    retention: props.logRetention ?? RetentionDays.ONE_MONTH,
    removalPolicy: RemovalPolicy.DESTROY,
  });
  const stateMachine = new StateMachine(scope, 'StateMachine', {
    stateMachineType: StateMachineType.STANDARD,
    definitionBody: DefinitionBody.fromChainable(definition),
    timeout: props.timeout ?? Duration.days(7),
    tracingEnabled: true,
    // every state's entry and exit, without the payloads (task IDs only, but nothing to gain)
    logs: { destination: logs, level: LogLevel.ALL, includeExecutionData: false },
  });
  const acknowledge = (id: string, reason: string) =>
    Validations.of(stateMachine).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${id}]`, reason });
  acknowledge(
    nagResource(scope, `${props.worker.functionArn}:*`),
    "the worker's versions and aliases (`function:NAME:*`), as CDK grants an invocation",
  );
  acknowledge(
    'Resource::*',
    'actions AWS grants only on Resource "*": log delivery to CloudWatch Logs (logs:CreateLogDelivery and the like) and X-Ray trace segments',
  );
  return stateMachine;
}
