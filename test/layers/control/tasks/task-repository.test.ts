/** Task items, idempotency keys and leases on dynalite. */
import { LAST_SLICE_MS, TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import { TaskLifecycle } from '../../../../layers/control/tasks/task-lifecycle.js';
import { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import { newTaskId, type TaskRecord } from '../../../../layers/control/tasks/task.js';
import { STALE_CLAIM_MS } from '../../../../layers/control/store-apps/store-app-repository.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
let repository: TaskRepository;
let clock = Date.parse('2026-12-01T00:00:00Z');
const APP_A = '00000000-0000-4000-8000-00000000000a';
const APP_B = '00000000-0000-4000-8000-00000000000b';

beforeAll(() => {
  repository = new TaskRepository(dynamo.table());
});

async function newTask(appId: string, change: Partial<TaskRecord> = {}): Promise<TaskRecord> {
  clock += 1000;
  const task: TaskRecord = {
    id: newTaskId(clock),
    type: 'check',
    appId,
    parameters: { readData: false },
    state: 'queued',
    principal: 'local',
    createdAt: new Date(clock).toISOString(),
    version: 1,
    ...change,
  };
  await repository.insert(task);
  return task;
}

test('a task moves queued → running → succeeded, and a final state never changes', async () => {
  const task = await newTask(APP_A);
  expect(await repository.transition(task.id, 'succeeded')).toMatchObject({
    moved: false,
    previousState: 'queued',
  });
  expect(await repository.transition(task.id, 'running')).toMatchObject({
    moved: true,
    task: { state: 'running', version: 2 },
  });
  const done = await repository.transition(task.id, 'succeeded', { result: { ok: true } });
  expect(done).toMatchObject({
    moved: true,
    previousState: 'running',
    task: { state: 'succeeded', result: { ok: true } },
  });
  for (const to of ['running', 'failed', 'cancelled'] as const)
    expect(await repository.transition(task.id, to)).toMatchObject({
      moved: false,
      task: { state: 'succeeded' },
    });
  expect(await repository.get(task.id)).toMatchObject({ state: 'succeeded', version: 3 });
});

test('a cancel is taken from queued and from running', async () => {
  const queued = await newTask(APP_A);
  expect(await repository.transition(queued.id, 'cancelled')).toMatchObject({
    moved: true,
    previousState: 'queued',
  });
  const running = await newTask(APP_A, { state: 'running' });
  expect(await repository.transition(running.id, 'cancelled')).toMatchObject({
    moved: true,
    previousState: 'running',
  });
});

test('a write from a stale read is refused; a state change re-reads and wins over progress', async () => {
  const task = await newTask(APP_B, { state: 'running' });
  const progress = { unit: 'packs', done: 1, updatedAt: new Date(clock).toISOString() };
  expect(await repository.save(task, { progress })).toMatchObject({ version: 2 });
  expect(await repository.save(task, { progress: { ...progress, done: 2 } })).toBeUndefined();
  const moved = await repository.transition(task.id, 'failed', { failure: { code: 'X', message: 'x' } });
  expect(moved.task).toMatchObject({ state: 'failed', version: 3, progress: { done: 1 } });
});

test('an unknown task is a 404 naming it', async () => {
  const id = newTaskId();
  await expect(repository.get(id)).rejects.toMatchObject({ status: 404, code: 'TASK_NOT_FOUND' });
});

test('tasks list newest first, by app, state and type, page by page', async () => {
  const mine = [];
  for (let i = 0; i < 5; i++)
    mine.push(await newTask('00000000-0000-4000-8000-0000000000cc', i % 2 ? { state: 'running' } : {}));
  const newest = mine.map((t) => t.id).reverse();
  const pages: string[][] = [];
  let token: string | undefined;
  do {
    const page = await repository.list({ appId: '00000000-0000-4000-8000-0000000000cc' }, 2, token);
    pages.push(page.items.map((t) => t.id));
    token = page.nextToken;
  } while (token && pages.length < 10);
  expect(pages.flat()).toEqual(newest);
  expect(pages[0]).toHaveLength(2);
  const running = await repository.list(
    { appId: '00000000-0000-4000-8000-0000000000cc', state: 'running' },
    10,
  );
  expect(running.items.map((t) => t.id)).toEqual([newest[1], newest[3]]);
  // every app's tasks, newest first: the five above lead, filtered pages fill up
  const all = await repository.list({ state: 'queued', type: 'check' }, 3);
  expect(all.items.map((t) => t.id)).toEqual([newest[0], newest[2], newest[4]]);
  expect(all.nextToken).toBeDefined();
  const rest = await repository.list({ state: 'queued', type: 'check' }, 100, all.nextToken);
  expect(rest.items.every((t) => t.state === 'queued' && !newest.includes(t.id))).toBe(true);
  expect((await repository.list({ type: 'sync' }, 10)).items).toEqual([]);
});

test('a page token of another list is refused', async () => {
  const page = await repository.list({ appId: APP_A }, 1);
  await expect(repository.list({ appId: APP_B }, 1, page.nextToken)).rejects.toMatchObject({
    code: 'BAD_PAGE_TOKEN',
  });
  await expect(repository.list({}, 1, 'garbage')).rejects.toMatchObject({ status: 400 });
});

describe('claims', () => {
  let claims: TaskClaims;
  beforeAll(() => {
    claims = new TaskClaims(dynamo.table(), repository, () => clock);
  });

  test('an idempotency key answers its task to the same request, refuses another', async () => {
    const task = await newTask(APP_A);
    expect(await claims.claimKey('arn:user/a', 'k1', 'fp1', task.id)).toEqual({ claimed: true });
    expect(await claims.claimKey('arn:user/a', 'k1', 'fp1', newTaskId())).toMatchObject({
      claimed: false,
      task: { id: task.id },
    });
    await expect(claims.claimKey('arn:user/a', 'k1', 'fp2', newTaskId())).rejects.toMatchObject({
      status: 422,
      code: 'IDEMPOTENCY_KEY_REUSED',
    });
    // keys are the principal's own
    expect(await claims.claimKey('arn:user/b', 'k1', 'fp2', newTaskId())).toEqual({ claimed: true });
  });

  test('a key whose task was never written is busy, then taken over once stale', async () => {
    const lost = newTaskId();
    await claims.claimKey('local', 'k2', 'fp', lost);
    await expect(claims.claimKey('local', 'k2', 'fp', newTaskId())).rejects.toMatchObject({
      code: 'REQUEST_IN_PROGRESS',
    });
    clock += STALE_CLAIM_MS;
    expect(await claims.claimKey('local', 'k2', 'fp', newTaskId())).toEqual({ claimed: true });
  });

  test('a lease is held until its task ends, then taken over', async () => {
    const holder = await newTask(APP_B, { state: 'running' });
    await claims.lease(`store:${APP_B}`, holder.id, 'the store');
    await expect(claims.lease(`store:${APP_B}`, newTaskId(), 'the store')).rejects.toMatchObject({
      status: 409,
      code: 'STORE_BUSY',
      message: expect.stringContaining(holder.id),
    });
    await repository.transition(holder.id, 'succeeded');
    const next = await newTask(APP_B);
    await claims.lease(`store:${APP_B}`, next.id, 'the store');
    // a release by a task that no longer holds it frees nothing
    await claims.release(`store:${APP_B}`, holder.id);
    await expect(claims.lease(`store:${APP_B}`, newTaskId(), 'the store')).rejects.toMatchObject({
      code: 'STORE_BUSY',
    });
    await claims.release(`store:${APP_B}`, next.id);
    await claims.lease(`store:${APP_B}`, newTaskId(), 'the store');
  });

  test('a task cancelled while it ran holds its lease for its last slice: until released, at most a slice long', async () => {
    const lifecycle = new TaskLifecycle(repository, claims, { publish: async () => undefined }, () => clock);
    const holder = await newTask(APP_A, { state: 'running', exclusiveKey: `store:${APP_A}` });
    await claims.lease(`store:${APP_A}`, holder.id, 'the store');
    await lifecycle.move(holder.id, 'cancelled');
    await expect(claims.lease(`store:${APP_A}`, newTaskId(), 'the store')).rejects.toMatchObject({
      code: 'STORE_BUSY',
      message: expect.stringContaining('may still be finishing its last unit of work'),
    });
    clock += LAST_SLICE_MS;
    await claims.lease(`store:${APP_A}`, newTaskId(), 'the store');

    // cancelled before it ever ran: nothing of it can be writing
    const queued = await newTask(APP_B, { exclusiveKey: `queue:${APP_B}` });
    await claims.lease(`queue:${APP_B}`, queued.id, 'the store');
    await lifecycle.move(queued.id, 'cancelled');
    await claims.lease(`queue:${APP_B}`, newTaskId(), 'the store');
  });
});
