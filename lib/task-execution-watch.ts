import { Rule, RuleTargetInput, EventField } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface TaskExecutionWatchProps {
  /** the task-worker function: its `ended` action fails a task its execution left unfinished */
  readonly worker: IFunction;
  /** the workflows' state machines, whose executions are named after their tasks */
  readonly stateMachines: readonly IStateMachine[];
}

/**
 * Tells the worker when an execution ends without reaching its own end: past its timeout, stopped
 * from outside kloud, or failed where no Catch records it (the recording itself failing). Without
 * it such a task would stay `running`. Step Functions sends these status changes to the default
 * bus by itself; the worker leaves a task that has ended (a cancel, its own Catch) as it is.
 */
export class TaskExecutionWatch extends Construct {
  constructor(scope: Construct, id: string, props: TaskExecutionWatchProps) {
    super(scope, id);
    new Rule(this, 'ExecutionEnded', {
      description: 'a kloud task execution that timed out, was stopped or failed: its task must end too',
      eventPattern: {
        source: ['aws.states'],
        detailType: ['Step Functions Execution Status Change'],
        detail: {
          status: ['FAILED', 'TIMED_OUT', 'ABORTED'],
          stateMachineArn: props.stateMachines.map((m) => m.stateMachineArn),
        },
      },
      targets: [
        new LambdaFunction(props.worker, {
          event: RuleTargetInput.fromObject({
            action: 'ended',
            taskId: EventField.fromPath('$.detail.name'),
            status: EventField.fromPath('$.detail.status'),
          }),
          retryAttempts: 8,
        }),
      ],
    });
  }
}
