import { Choice, Condition, JsonPath, type StateMachine, Succeed } from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import {
  FAILURE_STATES,
  recordFailure,
  type WorkflowMachineProps,
  workerCall,
  workflowStateMachine,
} from './worker-states.js';

/** The task-worker function (it answers `{ done }` to `start` and `slice`, records `fail`), a timeout, logs. */
export type TaskStateMachineProps = WorkflowMachineProps;

/** The state names, read as sentences: they are what a user sees in the console's graph. */
export const TASK_STATES = {
  start: 'Mark the task running',
  cancelledBeforeStart: 'Was it cancelled before it started?',
  slice: 'Work on the task for one invocation',
  done: 'Is the work done?',
  ended: 'The task has ended',
  ...FAILURE_STATES,
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
      workerCall(this, {
        stateName,
        worker: props.worker,
        payload: { action, taskId: JsonPath.stringAt('$.taskId') },
        resultSelector: { 'done.$': '$.Payload.done' },
        resultPath: `$.${action}`,
      });

    const failed = recordFailure(this, props.worker);
    const ended = new Succeed(this, TASK_STATES.ended, { stateName: TASK_STATES.ended });
    const slice = call(TASK_STATES.slice, 'slice');
    const start = call(TASK_STATES.start, 'start');
    for (const task of [start, slice]) task.addCatch(failed, { resultPath: '$.error' });

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
