/**
 * The worker's slices with a task type of the test's own (a counter of units), on dynalite:
 * budgets, checkpoints, progress writes that see a cancel, events that fail to publish, and when
 * a task that ended frees its lease.
 */
import { jest } from '@jest/globals';
import { logger } from '../../../../layers/control/runtime/observability.js';
import { LAST_SLICE_MS, TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import type { TaskStateChange } from '../../../../layers/control/tasks/task-events.js';
import { taskKind, type TaskContext } from '../../../../layers/control/tasks/task-kinds.js';
import { TaskLifecycle } from '../../../../layers/control/tasks/task-lifecycle.js';
import { PROGRESS_INTERVAL_MS } from '../../../../layers/control/tasks/task-progress.js';
import { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import { SAFETY_MARGIN_MS, TaskWorker } from '../../../../layers/control/tasks/task-worker.js';
import { newTaskId, type TaskRecord } from '../../../../layers/control/tasks/task.js';
import { z } from 'zod';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
let repository: TaskRepository;
let clock = Date.parse('2026-12-02T00:00:00Z');
const now = () => clock;
const published: TaskStateChange[] = [];
let failPublishing = false;
/** what the test does between two units of the counting work */
let betweenUnits: (unit: number) => Promise<void> = async () => undefined;
const deadlines: number[] = [];

/** Counts to `units`, one unit per ms of the clock; the checkpoint is the count. */
const counting = taskKind<{ units: number }, number, { counted: number }>({
  parameters: z.strictObject({ units: z.number().int() }),
  work: () => ({
    async slice({ parameters, checkpoint, deadline, signal, report }) {
      deadlines.push(deadline);
      let count = checkpoint ?? 0;
      while (count < parameters.units) {
        if (signal.aborted || (count > (checkpoint ?? 0) && clock >= deadline))
          return { done: false, checkpoint: count };
        count++;
        clock += 1000;
        report({ unit: 'units', done: count, total: parameters.units });
        await betweenUnits(count);
      }
      return { done: true, result: { counted: count } };
    },
  }),
  failureOf: (result: { counted: number }) =>
    result.counted === 13 ? { code: 'UNLUCKY', message: 'counted to 13' } : undefined,
});

function workerWith(sliceMs?: number): TaskWorker {
  const claims = new TaskClaims(dynamo.table(), repository, now);
  const events = {
    publish: async (change: TaskStateChange) => {
      if (failPublishing) throw new Error('the bus is down');
      published.push(change);
    },
  };
  const lifecycle = new TaskLifecycle(repository, claims, events, now);
  return new TaskWorker(repository, lifecycle, { check: counting }, {} as TaskContext, {
    now,
    ...(sliceMs !== undefined && { sliceMs }),
  });
}

async function queuedTask(units: number): Promise<TaskRecord> {
  const task: TaskRecord = {
    id: newTaskId(clock),
    type: 'check',
    appId: '00000000-0000-4000-8000-000000000001',
    parameters: { units },
    state: 'queued',
    principal: 'local',
    createdAt: new Date(clock).toISOString(),
    version: 1,
  };
  await repository.insert(task);
  return task;
}

beforeAll(() => {
  repository = new TaskRepository(dynamo.table());
});

afterEach(() => {
  betweenUnits = async () => undefined;
  failPublishing = false;
  deadlines.length = 0;
  jest.restoreAllMocks();
});

test('a slice gets the time left less the safety margin, capped by KLOUD_TASK_SLICE_MS; its checkpoint carries on', async () => {
  const task = await queuedTask(10);
  const worker = workerWith(3000);
  expect(await worker.handle({ action: 'start', taskId: task.id }, 900_000)).toEqual({ done: false });
  const started = clock;
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: false });
  expect(deadlines).toEqual([started + 3000]);
  expect(await repository.get(task.id)).toMatchObject({ state: 'running', checkpoint: 3 });
  // no cap: what the invocation has left, less the margin
  const uncapped = workerWith();
  const at = clock;
  expect(await uncapped.handle({ action: 'slice', taskId: task.id }, SAFETY_MARGIN_MS + 5000)).toEqual({
    done: false,
  });
  expect(deadlines[1]).toBe(at + 5000);
  expect(await repository.get(task.id)).toMatchObject({ checkpoint: 8 });
  expect(await uncapped.handle({ action: 'slice', taskId: task.id }, SAFETY_MARGIN_MS + 5000)).toEqual({
    done: true,
  });
  const done = await repository.get(task.id);
  expect(done).toMatchObject({
    state: 'succeeded',
    result: { counted: 10 },
    progress: { done: 10, total: 10 },
  });
  expect(done).not.toHaveProperty('checkpoint');
});

test('a cancel seen by a progress write aborts the slice at its next unit', async () => {
  const task = await queuedTask(50);
  const worker = workerWith();
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  let reached = 0;
  betweenUnits = async (unit) => {
    reached = unit;
    if (unit === 2) await repository.transition(task.id, 'cancelled');
    // a unit of real work waits for I/O: so does this one, letting the progress write finish
    else await repository.get(task.id);
  };
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
  const cancelled = await repository.get(task.id);
  expect(cancelled.state).toBe('cancelled');
  expect(cancelled).not.toHaveProperty('result');
  // it stopped soon after the first progress write after the cancel (one unit per second), not after 50 units
  expect(reached).toBeGreaterThanOrEqual(PROGRESS_INTERVAL_MS / 1000);
  expect(reached).toBeLessThan(10);
});

test('a result the type judges a failure ends the task failed; a failed publish fails nothing', async () => {
  const task = await queuedTask(13);
  const worker = workerWith();
  failPublishing = true;
  const warn = jest.spyOn(logger, 'warn').mockImplementation(() => undefined);
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
  expect(await repository.get(task.id)).toMatchObject({
    state: 'failed',
    failure: { code: 'UNLUCKY', message: 'counted to 13' },
    result: { counted: 13 },
  });
  expect(published.filter((e) => e.taskId === task.id)).toEqual([]);
  expect(warn.mock.calls.filter(([message]) => message === 'task event not published')).toEqual([
    ['task event not published', expect.objectContaining({ taskId: task.id, state: 'running' })],
    ['task event not published', expect.objectContaining({ taskId: task.id, state: 'failed' })],
  ]);
});

test('events tell each state change with the previous state', async () => {
  const task = await queuedTask(1);
  const worker = workerWith();
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  await worker.handle({ action: 'slice', taskId: task.id }, 900_000);
  expect(published.filter((e) => e.taskId === task.id)).toEqual([
    expect.objectContaining({ state: 'running', previousState: 'queued', type: 'check' }),
    expect.objectContaining({ state: 'succeeded', previousState: 'running' }),
  ]);
});

test('a task of a type the deployment does not run fails saying so', async () => {
  const task = { ...(await queuedTask(1)) };
  await repository.update(task.id, () => ({ type: 'restore' }));
  const worker = workerWith();
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
  expect(await repository.get(task.id)).toMatchObject({
    state: 'failed',
    failure: { code: 'UNSUPPORTED_TASK', message: 'this deployment does not run restore tasks' },
  });
});

test('an execution that ended and left its task unfinished fails it; a task that ended stays as it is', async () => {
  const worker = workerWith();
  const stopped = await queuedTask(5);
  await worker.handle({ action: 'start', taskId: stopped.id }, 900_000);
  expect(await worker.handle({ action: 'ended', taskId: stopped.id, status: 'ABORTED' }, 900_000)).toEqual({
    done: true,
  });
  expect(await repository.get(stopped.id)).toMatchObject({
    state: 'failed',
    failure: { code: 'STOPPED', message: expect.stringContaining('stopped outside kloud') },
    endedAt: expect.any(String),
  });

  const timedOut = await queuedTask(5);
  await worker.handle({ action: 'ended', taskId: timedOut.id, status: 'TIMED_OUT' }, 900_000);
  expect(await repository.get(timedOut.id)).toMatchObject({
    state: 'failed',
    failure: { code: 'TIMED_OUT' },
  });

  // the usual case: the execution's own Catch recorded the failure first; the event changes nothing
  const caught = await queuedTask(1);
  await worker.handle({ action: 'fail', taskId: caught.id, error: { Error: 'Lambda.Unknown' } }, 900_000);
  const before = await repository.get(caught.id);
  await worker.handle({ action: 'ended', taskId: caught.id, status: 'FAILED' }, 900_000);
  expect(await repository.get(caught.id)).toEqual(before);
  expect(before.failure).toEqual({ code: 'INTERNAL', message: expect.stringContaining(caught.id) });
});

test('a cancel leaves the lease to the running slice, which frees it once it has stopped', async () => {
  const claims = new TaskClaims(dynamo.table(), repository, now);
  const lifecycle = new TaskLifecycle(repository, claims, { publish: async () => undefined }, now);
  const task = await queuedTask(50);
  const key = `DESTINATION#${task.id}`;
  await claims.lease(key, task.id, 'the destination');
  await repository.update(task.id, () => ({ exclusiveKey: key }));
  const worker = workerWith();
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  let busyWhileSliceRan: unknown;
  betweenUnits = async (unit) => {
    if (unit === 2) {
      await lifecycle.move(task.id, 'cancelled');
      busyWhileSliceRan = await claims
        .lease(key, newTaskId(clock), 'the destination')
        .catch((e: unknown) => e);
    } else await repository.get(task.id);
  };
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
  expect(busyWhileSliceRan).toMatchObject({ code: 'STORE_BUSY' });
  // the slice has stopped: another task takes the destination at once
  await claims.lease(key, newTaskId(clock), 'the destination');
});

/** A queued task holding the lease on a destination of its own, and the claims and lifecycle that took it. */
async function leasedTask(units: number) {
  const claims = new TaskClaims(dynamo.table(), repository, now);
  const lifecycle = new TaskLifecycle(repository, claims, { publish: async () => undefined }, now);
  const task = await queuedTask(units);
  const key = `DESTINATION#${task.id}`;
  await claims.lease(key, task.id, 'the destination');
  await repository.update(task.id, () => ({ exclusiveKey: key }));
  /** another task's try at the lease: undefined when taken, else the refusal */
  const another = () =>
    claims.lease(key, newTaskId(clock), 'the destination').then(
      () => undefined,
      (e: unknown) => e,
    );
  return { task, lifecycle, another };
}

test('a task its own work ends frees its lease at once, succeeded or failed', async () => {
  const worker = workerWith();
  for (const units of [2, 13]) {
    const { task, another } = await leasedTask(units);
    await worker.handle({ action: 'start', taskId: task.id }, 900_000);
    expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
    const ended = await repository.get(task.id);
    expect(ended.state).toBe(units === 13 ? 'failed' : 'succeeded');
    expect(ended).not.toHaveProperty('workMayRunUntil');
    expect(await another()).toBeUndefined();
  }
});

test("a failure the execution's Catch records frees the lease at once: the failed invocation was the task's only work", async () => {
  const { task, another } = await leasedTask(10);
  const worker = workerWith(3000);
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  await worker.handle({ action: 'slice', taskId: task.id }, 900_000);
  expect(
    await worker.handle({ action: 'fail', taskId: task.id, error: { Error: 'Lambda.Unknown' } }, 900_000),
  ).toEqual({ done: true });
  const failed = await repository.get(task.id);
  expect(failed).toMatchObject({ state: 'failed', failure: { code: 'INTERNAL' } });
  expect(failed).not.toHaveProperty('workMayRunUntil');
  expect(await another()).toBeUndefined();
});

test('an execution that ended with its task running keeps the lease while the work may run: until LAST_SLICE_MS has passed', async () => {
  const { task, another } = await leasedTask(10);
  const worker = workerWith(3000);
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  await worker.handle({ action: 'slice', taskId: task.id }, 900_000);
  const endedAt = clock;
  await worker.handle({ action: 'ended', taskId: task.id, status: 'ABORTED' }, 900_000);
  const until = new Date(endedAt + LAST_SLICE_MS).toISOString();
  expect(await repository.get(task.id)).toMatchObject({ state: 'failed', workMayRunUntil: until });
  expect(await another()).toMatchObject({
    status: 409,
    code: 'STORE_BUSY',
    message: `the destination is busy: task ${task.id} has ended (failed) but may still be finishing its last unit of work, at the latest until ${until}; retry then`,
  });
  clock += LAST_SLICE_MS - 1;
  expect(await another()).toMatchObject({ code: 'STORE_BUSY' });
  clock += 1;
  expect(await another()).toBeUndefined();
});

test('an execution that ended under a running slice keeps the lease until that slice lets go', async () => {
  const { task, another } = await leasedTask(50);
  const worker = workerWith();
  await worker.handle({ action: 'start', taskId: task.id }, 900_000);
  let busyWhileSliceRan: unknown;
  betweenUnits = async (unit) => {
    if (unit === 2) {
      await worker.handle({ action: 'ended', taskId: task.id, status: 'TIMED_OUT' }, 900_000);
      busyWhileSliceRan = await another();
    } else await repository.get(task.id);
  };
  expect(await worker.handle({ action: 'slice', taskId: task.id }, 900_000)).toEqual({ done: true });
  expect(busyWhileSliceRan).toMatchObject({ code: 'STORE_BUSY' });
  expect(await repository.get(task.id)).toMatchObject({ state: 'failed', failure: { code: 'TIMED_OUT' } });
  // the slice has stopped: the lease is free long before LAST_SLICE_MS
  expect(await another()).toBeUndefined();
});

test('a cold restore cancelled while it waits for its data frees its lease at once; failed there, it keeps it', async () => {
  for (const end of ['cancelled', 'failed'] as const) {
    const { task, lifecycle, another } = await leasedTask(1);
    await lifecycle.move(task.id, 'running');
    await lifecycle.move(task.id, 'waiting-for-retrieval');
    // a cancel (Tasks.cancel), or the execution watch's end of a poll that never answered
    await lifecycle.move(task.id, end);
    expect(await another()).toEqual(
      end === 'cancelled' ? undefined : expect.objectContaining({ code: 'STORE_BUSY' }),
    );
  }
});
