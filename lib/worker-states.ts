/**
 * What every task workflow's state machine shares (lib/task-state-machine.ts,
 * lib/backup-state-machine.ts): its calls of the task-worker function with one retry policy, the
 * end of a failed execution, and the machine itself with its logs.
 */
import { Duration, RemovalPolicy, Validations } from 'aws-cdk-lib';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { LogGroup, RetentionDays } from 'aws-cdk-lib/aws-logs';
import {
  DefinitionBody,
  Errors,
  Fail,
  type IChainable,
  JitterType,
  JsonPath,
  LogLevel,
  StateMachine,
  StateMachineType,
  TaskInput,
} from 'aws-cdk-lib/aws-stepfunctions';
import { LambdaInvoke } from 'aws-cdk-lib/aws-stepfunctions-tasks';
import type { Construct } from 'constructs';
import { nagResource } from './nag-resource.js';

/** The failure's states, read as sentences like every state name (the console's graph). */
export const FAILURE_STATES = {
  recordFailure: 'Record why the task failed',
  failed: 'The task failed',
} as const;

export interface WorkerCallProps {
  readonly stateName: string;
  readonly worker: IFunction;
  /** the worker's event, `action` first */
  readonly payload: Record<string, unknown>;
  /** what the state keeps of the answer (`Payload.` fields) */
  readonly resultSelector?: Record<string, string>;
  readonly resultPath: string;
}

/**
 * A call of the worker, retried: Lambda's service exceptions; throttling (many tasks or batches at
 * once) patiently, with full jitter so that throttled callers spread out; and an invocation that
 * timed out or crashed, twice (every stage resumes from what its last attempt recorded).
 */
export function workerCall(scope: Construct, props: WorkerCallProps): LambdaInvoke {
  const invoke = new LambdaInvoke(scope, props.stateName, {
    stateName: props.stateName,
    lambdaFunction: props.worker,
    payload: TaskInput.fromObject(props.payload),
    ...(props.resultSelector && { resultSelector: props.resultSelector }),
    resultPath: props.resultPath,
    retryOnServiceExceptions: true,
  });
  invoke.addRetry({
    errors: ['Lambda.TooManyRequestsException'],
    interval: Duration.seconds(2),
    backoffRate: 2,
    maxAttempts: 8,
    jitterStrategy: JitterType.FULL,
  });
  invoke.addRetry({
    errors: [Errors.TASKS_FAILED, 'Sandbox.Timedout'],
    interval: Duration.seconds(5),
    backoffRate: 2,
    maxAttempts: 2,
  });
  return invoke;
}

/** Where every Catch goes: the worker records why (`fail`), then the execution fails. */
export function recordFailure(scope: Construct, worker: IFunction): IChainable {
  return new LambdaInvoke(scope, FAILURE_STATES.recordFailure, {
    stateName: FAILURE_STATES.recordFailure,
    lambdaFunction: worker,
    payload: TaskInput.fromObject({
      action: 'fail',
      taskId: JsonPath.stringAt('$.taskId'),
      error: JsonPath.objectAt('$.error'),
    }),
    resultPath: JsonPath.DISCARD,
    retryOnServiceExceptions: true,
  }).next(new Fail(scope, FAILURE_STATES.failed, { stateName: FAILURE_STATES.failed }));
}

export interface WorkflowMachineProps {
  readonly worker: IFunction;
  /** how long a task may run in all (default: 7 days; Step Functions allows a year) */
  readonly timeout?: Duration;
  /** log group of the executions (default: a new one kept a month) */
  readonly logRetention?: RetentionDays;
}

/**
 * A workflow's state machine (STANDARD: tasks run for hours, and each state's retries and
 * history are kept), its executions logged without their payloads.
 */
export function workflowStateMachine(
  scope: Construct,
  definition: IChainable,
  props: WorkflowMachineProps,
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
  acknowledgeIam5(
    stateMachine,
    nagResource(scope, `${props.worker.functionArn}:*`),
    "the worker's versions and aliases (`function:NAME:*`), as CDK grants an invocation",
  );
  acknowledgeIam5(
    stateMachine,
    'Resource::*',
    'actions AWS grants only on Resource "*": log delivery to CloudWatch Logs (logs:CreateLogDelivery and the like) and X-Ray trace segments',
  );
  return stateMachine;
}

/** Acknowledges cdk-nag's wildcard finding for one resource of the construct's policy, with the reason. */
export function acknowledgeIam5(construct: Construct, resource: string, reason: string): void {
  Validations.of(construct).acknowledge({ id: `AwsSolutions::AwsSolutions-IAM5[${resource}]`, reason });
}
