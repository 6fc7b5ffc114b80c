import { Duration, Validations } from 'aws-cdk-lib';
import { Alarm, ComparisonOperator, TreatMissingData } from 'aws-cdk-lib/aws-cloudwatch';
import { Rule, RuleTargetInput, EventField } from 'aws-cdk-lib/aws-events';
import { LambdaFunction } from 'aws-cdk-lib/aws-events-targets';
import type { IFunction } from 'aws-cdk-lib/aws-lambda';
import { SqsDestination } from 'aws-cdk-lib/aws-lambda-destinations';
import { Queue, QueueEncryption } from 'aws-cdk-lib/aws-sqs';
import type { IStateMachine } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';

export interface TaskExecutionWatchProps {
  /** the task-worker function: its `ended` action fails a task its execution left unfinished */
  readonly worker: IFunction;
  /** the workflows' state machines, whose executions are named after their tasks */
  readonly stateMachines: readonly IStateMachine[];
}

/** Deliveries to the worker EventBridge tries (with its exponential backoff) before giving up. */
const RETRY_ATTEMPTS = 8;

/** Runs Lambda tries again when the worker took the event and failed on it (Lambda's most). */
const RUN_RETRIES = 2;

/**
 * How long EventBridge keeps trying to deliver, and Lambda to run, one event: longer than the
 * worker could be throttled or failing for a moment; an event still not taken then goes to the
 * dead-letter queue rather than being kept.
 */
const MAX_EVENT_AGE = Duration.hours(2);

/** SQS's longest retention: two weeks to notice the alarm and redrive (docs/DEPLOY.md, section 7). */
const DEAD_LETTER_RETENTION = Duration.days(14);

/**
 * Tells the worker when an execution ends without reaching its own end: past its timeout, stopped
 * from outside kloud, or failed where no Catch records it (the recording itself failing). Without
 * it such a task would stay `running`. Step Functions sends these status changes to the default
 * bus by itself; the worker leaves a task that has ended (a cancel, its own Catch) as it is.
 * EventBridge invokes the worker asynchronously, so an event can be lost two ways: never delivered
 * (throttled, not permitted: EventBridge's retries, then the rule target's dead-letter queue) or
 * delivered and failed on (the worker throwing: Lambda's retries, then the worker's on-failure
 * destination). Both end in one queue, and the alarm says an event waits there: its task stays
 * `running` until the event is redriven (docs/DEPLOY.md, section 7).
 */
export class TaskExecutionWatch extends Construct {
  /** the events the worker never took: EventBridge's undelivered ones, Lambda's failed runs */
  public readonly deadLetterQueue: Queue;
  /** in ALARM while the dead-letter queue holds an event */
  public readonly alarm: Alarm;

  constructor(scope: Construct, id: string, props: TaskExecutionWatchProps) {
    super(scope, id);
    // SQS-managed keys: EventBridge writes to the queue without a grant on a KMS key (the stack's
    // key may be imported, its policy not ours to extend)
    this.deadLetterQueue = new Queue(this, 'Undelivered', {
      encryption: QueueEncryption.SQS_MANAGED,
      enforceSSL: true,
      retentionPeriod: DEAD_LETTER_RETENTION,
    });
    Validations.of(this.deadLetterQueue).acknowledge({
      id: 'AwsSolutions::AwsSolutions-SQS3',
      reason:
        "it is the dead-letter queue of the execution watch's EventBridge target, which cdk-nag does not recognize as one",
    });
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
          retryAttempts: RETRY_ATTEMPTS,
          maxEventAge: MAX_EVENT_AGE,
          // the target adds the queue policy: events.amazonaws.com may send, from this rule only
          deadLetterQueue: this.deadLetterQueue,
        }),
      ],
    });
    // the worker's only asynchronous invocations are this rule's (the workflows invoke it and wait)
    props.worker.configureAsyncInvoke({
      retryAttempts: RUN_RETRIES,
      maxEventAge: MAX_EVENT_AGE,
      onFailure: new SqsDestination(this.deadLetterQueue),
    });
    this.alarm = new Alarm(this, 'UndeliveredAlarm', {
      alarmDescription:
        'an execution ended and the task worker never took the event: its task stays running until the event is redriven (docs/DEPLOY.md, section 7)',
      metric: this.deadLetterQueue.metricApproximateNumberOfMessagesVisible({
        period: Duration.minutes(5),
        statistic: 'Maximum',
      }),
      threshold: 1,
      evaluationPeriods: 1,
      comparisonOperator: ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
      // SQS sends no datapoints for a queue nobody touches: that is an empty queue
      treatMissingData: TreatMissingData.NOT_BREACHING,
    });
  }
}
