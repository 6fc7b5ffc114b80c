import {
  Choice,
  Condition,
  type IChainable,
  JsonPath,
  type StateMachine,
  Succeed,
  Wait,
  WaitTime,
} from 'aws-cdk-lib/aws-stepfunctions';
import { Construct } from 'constructs';
import type { RetrievalEvent } from '../layers/control/tasks/restore/retrieval-steps.js';
import type { TaskStateMachineProps } from './task-state-machine.js';
import { FAILURE_STATES, recordFailure, workerCall, workflowStateMachine } from './worker-states.js';

export type RestoreStateMachineProps = TaskStateMachineProps;

/** The state names, read as sentences: they are what a user sees in the console's graph. */
export const RESTORE_STATES = {
  start: 'Mark the task running',
  cancelledBeforeStart: 'Was it cancelled before it started?',
  plan: 'Plan the restore',
  request: 'Ask for the archived packs',
  wait: 'Wait for the retrieval',
  poll: 'Poll the pending packs',
  next: 'Where does the restore go next?',
  slice: 'Restore the files',
  done: 'Are all files restored?',
  ended: 'The task has ended',
  ...FAILURE_STATES,
} as const;

/**
 * The restore workflow: one execution per restore task. The plan finds the data packs the paths
 * need; when some are in archive storage (a cold app: S3 Glacier Flexible Retrieval, Deep
 * Archive), the worker asks for them, and the execution waits (a Wait state costs nothing, where
 * a waiting function would pay for every second) and polls until every pack is readable or the
 * deadline passes; then the task's slices restore the files, as the generic task machine runs
 * them. A restore whose packs are all readable goes from the plan straight to its slices.
 *
 * The worker decides each step: `plan`, `request` and `poll` answer where to go next (`restore`,
 * `request`, `wait` or `end`) and the Wait's seconds (a tenth of the tier's typical longest time,
 * between a minute and an hour: docs/ARCHITECTURE.md, "Cold restores"). Retries and the Catch
 * are the task machine's.
 */
export class RestoreStateMachine extends Construct {
  public readonly stateMachine: StateMachine;

  constructor(scope: Construct, id: string, props: RestoreStateMachineProps) {
    super(scope, id);
    const { worker } = props;
    const failed = recordFailure(this, worker);
    const ended = new Succeed(this, RESTORE_STATES.ended, { stateName: RESTORE_STATES.ended });
    const call = (stateName: string, action: string, resultSelector: Record<string, string>, into: string) =>
      workerCall(this, {
        stateName,
        worker,
        payload: { action, taskId: JsonPath.stringAt('$.taskId') },
        resultSelector,
        resultPath: `$.${into}`,
      });
    const step = (stateName: string, action: RetrievalEvent['action']) =>
      call(
        stateName,
        action,
        { 'next.$': '$.Payload.next', 'waitSeconds.$': '$.Payload.waitSeconds' },
        'step',
      );
    const start = call(RESTORE_STATES.start, 'start', { 'done.$': '$.Payload.done' }, 'start');
    const slice = call(RESTORE_STATES.slice, 'slice', { 'done.$': '$.Payload.done' }, 'slice');
    const plan = step(RESTORE_STATES.plan, 'plan-restore');
    const request = step(RESTORE_STATES.request, 'request-retrieval');
    const poll = step(RESTORE_STATES.poll, 'poll-retrieval');
    for (const task of [start, plan, request, poll, slice]) task.addCatch(failed, { resultPath: '$.error' });

    const wait = new Wait(this, RESTORE_STATES.wait, {
      stateName: RESTORE_STATES.wait,
      time: WaitTime.secondsPath('$.step.waitSeconds'),
    });
    const restoreLoop = slice.next(
      new Choice(this, RESTORE_STATES.done, { stateName: RESTORE_STATES.done })
        .when(Condition.booleanEquals('$.slice.done', true), ended)
        .otherwise(slice),
    );
    const next: IChainable = new Choice(this, RESTORE_STATES.next, { stateName: RESTORE_STATES.next })
      .when(Condition.stringEquals('$.step.next', 'restore'), restoreLoop)
      .when(Condition.stringEquals('$.step.next', 'request'), request)
      .when(Condition.stringEquals('$.step.next', 'wait'), wait)
      .otherwise(ended);
    plan.next(next);
    request.next(next);
    wait.next(poll);
    poll.next(next);

    const definition = start.next(
      new Choice(this, RESTORE_STATES.cancelledBeforeStart, {
        stateName: RESTORE_STATES.cancelledBeforeStart,
      })
        .when(Condition.booleanEquals('$.start.done', true), ended)
        .otherwise(plan),
    );
    this.stateMachine = workflowStateMachine(this, definition, props);
  }
}
