/**
 * Local mode's task runner runs the task state machine exactly as synthesized from lib/: the
 * worker is called to start, then slice after slice until it says done; a slice that throws is
 * retried, then recorded as the task's failure; a stopped execution calls no further slice.
 */
import { afterEach, beforeAll, expect, test } from '@jest/globals';
import type { TaskRecord } from '../../layers/control/tasks/task.js';
import type { WorkerAnswer, WorkerEvent } from '../../layers/control/tasks/task-runner.js';
import { TASK_STATES } from '../../lib/task-state-machine.js';
import { type LocalFunction, LocalTaskRunner } from '../../local/local-task-runner.js';
import {
  type AslDefinition,
  localFunctionArn,
  workflowDefinitions,
} from '../../local/state-machine-definitions.js';

let definition: AslDefinition;
let runner: LocalTaskRunner | undefined;
const executionErrors: unknown[] = [];

beforeAll(() => {
  definition = workflowDefinitions().task;
});

afterEach(async () => {
  await runner?.stopAll();
  executionErrors.length = 0;
});

const task = (id: string) => ({ id }) as TaskRecord;

/** A runner whose worker is `worker`, every retry pause shortened to 1 ms. */
function runnerWith(worker: (event: WorkerEvent) => Promise<WorkerAnswer | undefined>): LocalTaskRunner {
  const handler: LocalFunction = async (event) => worker(event as WorkerEvent);
  runner = new LocalTaskRunner(
    { task: definition, backup: definition, restore: definition },
    { [localFunctionArn('task-worker')]: { handler, timeoutMs: 15 * 60_000 } },
    (_arn, err) => executionErrors.push(err),
    { retryIntervalOverrides: { [TASK_STATES.start]: 1, [TASK_STATES.slice]: 1 } },
  );
  return runner;
}

test('the synthesized definition has the states lib/ describes, in sentences', () => {
  expect(definition.StartAt).toBe(TASK_STATES.start);
  expect(Object.keys(definition.States).sort()).toEqual(Object.values(TASK_STATES).sort());
});

test('start, then slices until the worker says done; a second start runs nothing more', async () => {
  const seen: string[] = [];
  let slices = 0;
  const r = runnerWith(async (event) => {
    seen.push(`${event.action}:${event.taskId}`);
    if (event.action === 'slice') slices += 1;
    return { done: event.action === 'slice' && slices === 3 };
  });
  const arn = await r.start(task('t-1'));
  expect(await r.start(task('t-1'))).toBe(arn);
  expect(arn).toMatch(/:execution:[^:]+:t-1$/);
  await r.settled();
  expect(seen).toEqual(['start:t-1', 'slice:t-1', 'slice:t-1', 'slice:t-1']);
  expect(executionErrors).toEqual([]);
});

test('a task cancelled before it started runs no slice', async () => {
  const seen: string[] = [];
  const r = runnerWith(async (event) => {
    seen.push(event.action);
    return { done: true };
  });
  await r.start(task('t-2'));
  await r.settled();
  expect(seen).toEqual(['start']);
});

test('a slice that keeps throwing is retried twice, then the failure is recorded with its error', async () => {
  const seen: WorkerEvent[] = [];
  const r = runnerWith(async (event) => {
    seen.push(event);
    if (event.action === 'slice') throw new Error('the disk is full');
    return { done: false };
  });
  await r.start(task('t-3'));
  await r.settled();
  expect(seen.map((e) => e.action)).toEqual(['start', 'slice', 'slice', 'slice', 'fail']);
  const fail = seen.at(-1) as Extract<WorkerEvent, { action: 'fail' }>;
  expect(fail.taskId).toBe('t-3');
  expect(`${fail.error.Error} ${fail.error.Cause}`).toContain('the disk is full');
  // the execution itself ends failed, as in AWS, once the failure is recorded
  expect(executionErrors).toHaveLength(1);
});

test('a slice that fails once goes on from where it was', async () => {
  let calls = 0;
  const answers: string[] = [];
  const r = runnerWith(async (event) => {
    if (event.action === 'start') return { done: false };
    calls += 1;
    if (calls === 2) throw new Error('throttled');
    answers.push(`slice ${calls}`);
    return { done: calls === 4 };
  });
  await r.start(task('t-4'));
  await r.settled();
  expect(answers).toEqual(['slice 1', 'slice 3', 'slice 4']);
  expect(executionErrors).toEqual([]);
});

test('stop ends the execution: no slice is called after it', async () => {
  let slices = 0;
  let stopped = false;
  const r = runnerWith(async (event) => {
    if (event.action === 'slice') {
      if (stopped) throw new Error('a slice ran after stop');
      slices += 1;
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    return { done: false };
  });
  const arn = await r.start(task('t-5'));
  for (let i = 0; i < 200 && slices < 2; i++) await new Promise((resolve) => setTimeout(resolve, 10));
  expect(slices).toBeGreaterThanOrEqual(2);
  await r.stop(arn);
  stopped = true;
  await r.settled();
  const after = slices;
  await new Promise((resolve) => setTimeout(resolve, 100));
  expect(slices).toBe(after);
  expect(executionErrors).toEqual([]);
});
