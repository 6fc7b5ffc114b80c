/**
 * Schedules and their runs on dynalite: the Schedules service with a backend that records what
 * it is asked (EventBridge Scheduler's requests have their own test), and the runs through the
 * real Tasks service (claims, lifecycle, the readiness of the app) with a task runner that
 * records the executions it starts.
 */
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';
import type { ScheduleRecord } from '../../../../layers/control/schedules/schedule.js';
import type { ScheduleBackend } from '../../../../layers/control/schedules/schedule-backend.js';
import { ScheduleRepository } from '../../../../layers/control/schedules/schedule-repository.js';
import { ScheduledRuns } from '../../../../layers/control/schedules/scheduled-runs.js';
import { Schedules } from '../../../../layers/control/schedules/schedules.js';
import { readyApp } from '../../../../layers/control/store-apps/ready-app.js';
import type { AppState, StoreAppRecord } from '../../../../layers/control/store-apps/store-app.js';
import { StoreAppRepository } from '../../../../layers/control/store-apps/store-app-repository.js';
import { DestinationTargets } from '../../../../layers/control/tasks/restore/destination-target.js';
import type { TaskRecord } from '../../../../layers/control/tasks/task.js';
import { TaskClaims } from '../../../../layers/control/tasks/task-claims.js';
import type { TaskStateChange } from '../../../../layers/control/tasks/task-events.js';
import { TASK_KINDS } from '../../../../layers/control/tasks/task-kinds.js';
import { TaskLifecycle } from '../../../../layers/control/tasks/task-lifecycle.js';
import { TaskRepository } from '../../../../layers/control/tasks/task-repository.js';
import type { TaskRunner } from '../../../../layers/control/tasks/task-runner.js';
import { Tasks } from '../../../../layers/control/tasks/tasks.js';
import { tempDir } from '../../kloset/fixtures.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
let clock = Date.parse('2026-03-27T00:00:00Z');
const now = () => clock;

class RecordingBackend implements ScheduleBackend {
  readonly calls: string[] = [];
  refuse = false;
  async create(s: ScheduleRecord) {
    this.record(`create ${s.id} ${s.expression} ${s.timezone} ${s.enabled}`);
  }
  async update(s: ScheduleRecord) {
    this.record(`update ${s.id} ${s.expression} ${s.timezone} ${s.enabled}`);
  }
  async delete(id: string) {
    this.record(`delete ${id}`);
  }
  private record(call: string) {
    if (this.refuse) throw new Error('backend down');
    this.calls.push(call);
  }
}

class RecordingRunner implements TaskRunner {
  readonly started: string[] = [];
  async start(task: TaskRecord) {
    this.started.push(task.id);
    return `arn:test:execution:${task.id}`;
  }
  async stop() {}
}

let backend: RecordingBackend;
let runner: RecordingRunner;
let schedules: Schedules;
let runs: ScheduledRuns;
let scheduleRepository: ScheduleRepository;
let apps: StoreAppRepository;
let taskRepository: TaskRepository;
const events: TaskStateChange[] = [];

async function app(state: AppState): Promise<StoreAppRecord> {
  const id = crypto.randomUUID();
  const record = {
    id,
    name: `app-${id.slice(0, 8)}`,
    resourceId: 'directory:backups',
    integration: 'directory',
    protocol: 'fs',
    storageType: 'standard',
    configuration: { path: id },
    location: `/backups/${id}`,
    hasCredentials: false,
    state,
    createdAt: new Date(clock).toISOString(),
    updatedAt: new Date(clock).toISOString(),
    target: { kind: 'fs', directory: '/backups' },
    secretName: `kloud/store-apps/${id}`,
    version: 1,
  } as StoreAppRecord;
  await apps.insert(record);
  return record;
}

beforeAll(async () => {
  const table = dynamo.table();
  apps = new StoreAppRepository(table);
  scheduleRepository = new ScheduleRepository(table);
  taskRepository = new TaskRepository(table);
  const claims = new TaskClaims(table, taskRepository, now);
  const lifecycle = new TaskLifecycle(
    taskRepository,
    claims,
    { publish: async (change) => void events.push(change) },
    now,
  );
  backend = new RecordingBackend();
  runner = new RecordingRunner();
  const dir = await tempDir('kloud-schedules-');
  const settings = { tableName: 'kloud-test', secretPrefix: 'x/', storeBuckets: [], cacheDir: dir };
  const ready = (id: string) => readyApp(apps, id);
  const tasks = new Tasks(
    taskRepository,
    claims,
    lifecycle,
    TASK_KINDS,
    ready,
    runner,
    {
      destinations: new DestinationTargets(settings, apps, new FileSecretStore(`${dir}/secrets.json`)),
      readyApp: ready,
    },
    now,
  );
  schedules = new Schedules(scheduleRepository, backend, apps, taskRepository, TASK_KINDS, now);
  runs = new ScheduledRuns(scheduleRepository, tasks, { repository: taskRepository, claims, lifecycle }, now);
});

const daily = (appId: string) => ({
  name: 'nightly check',
  expression: 'cron(0 10 * * ? *)',
  timezone: 'Europe/Berlin',
  task: { type: 'check' as const, appId, parameters: {} },
  enabled: true,
});

test('a schedule is created with its parameters as the task route takes them, and its next runs in its zone', async () => {
  const { id: appId } = await app('ready');
  const created = await schedules.create(daily(appId));
  expect(created).toMatchObject({
    name: 'nightly check',
    task: { type: 'check', appId, parameters: { readData: false } },
    enabled: true,
    // across the DST change of 2026-03-29: 10:00 in Berlin is 09:00, then 08:00 UTC
    nextRuns: ['2026-03-27T09:00:00.000Z', '2026-03-28T09:00:00.000Z', '2026-03-29T08:00:00.000Z'],
  });
  expect(created.lastRun).toBeUndefined();
  expect(backend.calls).toContain(`create ${created.id} cron(0 10 * * ? *) Europe/Berlin true`);
  expect(await schedules.get(created.id)).toEqual(created);
  const listed = await schedules.list(100);
  expect(listed.items.map((s) => s.id)).toContain(created.id);
});

test("a task's parameters, its type and its app are checked at creation", async () => {
  const { id: appId } = await app('ready');
  await expect(
    schedules.create({ ...daily(appId), task: { type: 'check', appId, parameters: { readData: 'yes' } } }),
  ).rejects.toMatchObject({
    status: 400,
    code: 'INVALID_INPUT',
    message: expect.stringContaining('body.task.parameters.readData'),
  });
  await expect(
    schedules.create({ ...daily(appId), task: { type: 'check', appId, parameters: { deep: true } } }),
  ).rejects.toMatchObject({ status: 400, message: expect.stringContaining('"deep"') });
  const gone = '00000000-0000-4000-8000-0000000000ff';
  await expect(schedules.create(daily(gone))).rejects.toMatchObject({ status: 404, code: 'APP_NOT_FOUND' });
  // a sync needs its peer: refused by the sync's own schema
  await expect(
    schedules.create({ ...daily(appId), task: { type: 'sync', appId, parameters: {} } }),
  ).rejects.toMatchObject({ status: 400 });
});

test('a backend that refuses leaves no schedule behind', async () => {
  const { id: appId } = await app('ready');
  const before = (await schedules.list(100)).items.length;
  backend.refuse = true;
  try {
    await expect(schedules.create(daily(appId))).rejects.toThrow('backend down');
  } finally {
    backend.refuse = false;
  }
  expect((await schedules.list(100)).items).toHaveLength(before);
});

test('pause and resume: no next runs while paused, the backend told each time, twice is a conflict', async () => {
  const { id: appId } = await app('ready');
  const { id } = await schedules.create(daily(appId));
  clock += 60_000;
  const paused = await schedules.setEnabled(id, false);
  expect(paused).toMatchObject({ enabled: false, nextRuns: [] });
  expect(backend.calls.at(-1)).toBe(`update ${id} cron(0 10 * * ? *) Europe/Berlin false`);
  await expect(schedules.setEnabled(id, false)).rejects.toMatchObject({
    status: 409,
    code: 'SCHEDULE_PAUSED',
  });
  const resumed = await schedules.setEnabled(id, true);
  expect(resumed).toMatchObject({
    enabled: true,
    nextRuns: expect.arrayContaining(['2026-03-27T09:00:00.000Z']),
  });
  expect(backend.calls.at(-1)).toBe(`update ${id} cron(0 10 * * ? *) Europe/Berlin true`);
  await expect(schedules.setEnabled(id, true)).rejects.toMatchObject({
    status: 409,
    code: 'SCHEDULE_RUNNING',
  });
  // a refused update puts the previous definition back
  backend.refuse = true;
  try {
    await expect(schedules.setEnabled(id, false)).rejects.toThrow('backend down');
  } finally {
    backend.refuse = false;
  }
  expect(await schedules.get(id)).toMatchObject({ enabled: true });
});

test('a replace changes the definition and keeps the state; a rate counts from the change', async () => {
  const { id: appId } = await app('ready');
  const { id } = await schedules.create(daily(appId));
  await schedules.setEnabled(id, false);
  const replaced = await schedules.update(id, {
    name: 'hourly',
    expression: 'rate(1 hour)',
    timezone: 'UTC',
    task: { type: 'check', appId, parameters: { readData: true } },
  });
  expect(replaced).toMatchObject({
    name: 'hourly',
    enabled: false,
    task: { parameters: { readData: true } },
  });
  await schedules.setEnabled(id, true);
  const changedAt = clock;
  clock += 90 * 60_000;
  expect((await schedules.get(id)).nextRuns).toEqual(
    [2, 3, 4].map((h) => new Date(changedAt + h * 3_600_000).toISOString()),
  );
});

test('delete removes the backend schedule, then the item; its tasks stay', async () => {
  const { id: appId } = await app('ready');
  const { id } = await schedules.create(daily(appId));
  const run = await runs.run({ scheduleId: id, scheduledTime: '2026-03-27T09:00:00Z' });
  await schedules.remove(id);
  expect(backend.calls.at(-1)).toBe(`delete ${id}`);
  await expect(schedules.get(id)).rejects.toMatchObject({ status: 404, code: 'SCHEDULE_NOT_FOUND' });
  await expect(schedules.remove(id)).rejects.toMatchObject({ status: 404 });
  expect(run.outcome).toBe('started');
  expect(await taskRepository.find((run as { taskId: string }).taskId)).toBeDefined();
  // a delivery that comes after the delete does nothing
  expect(await runs.run({ scheduleId: id, scheduledTime: '2026-03-28T09:00:00Z' })).toEqual({
    outcome: 'skipped',
    reason: 'deleted',
  });
});

test("a run creates the schedule's task as schedule:<id>; a repeated delivery is the same task", async () => {
  const { id: appId } = await app('ready');
  const { id } = await schedules.create(daily(appId));
  const event = { scheduleId: id, scheduledTime: '2026-03-27T09:00:00Z' };
  const first = await runs.run(event);
  expect(first).toMatchObject({ outcome: 'started', taskId: expect.any(String) });
  const taskId = (first as { taskId: string }).taskId;
  expect(await taskRepository.get(taskId)).toMatchObject({
    type: 'check',
    appId,
    parameters: { readData: false },
    principal: `schedule:${id}`,
    idempotencyKey: `schedule:${id}:2026-03-27T09:00:00Z`,
    executionArn: `arn:test:execution:${taskId}`,
  });
  expect(await runs.run(event)).toEqual({ outcome: 'repeated', taskId });
  expect(runner.started.filter((t) => t === taskId)).toHaveLength(1);
  // the next time is another task; the last run is the latest, with its task's state
  const second = await runs.run({ scheduleId: id, scheduledTime: '2026-03-28T09:00:00Z' });
  expect(second).toMatchObject({ outcome: 'started' });
  expect((second as { taskId: string }).taskId).not.toBe(taskId);
  const latest = {
    taskId: (second as { taskId: string }).taskId,
    scheduledTime: '2026-03-28T09:00:00Z',
    at: new Date(clock).toISOString(),
    state: 'queued',
  };
  expect((await schedules.get(id)).lastRun).toEqual(latest);
  // a late repeat of the earlier run leaves the latest as the last run
  expect(await runs.run(event)).toEqual({ outcome: 'repeated', taskId });
  expect((await schedules.get(id)).lastRun).toEqual(latest);
});

test('a paused schedule runs nothing', async () => {
  const { id: appId } = await app('ready');
  const { id } = await schedules.create(daily(appId));
  await schedules.setEnabled(id, false);
  const started = runner.started.length;
  expect(await runs.run({ scheduleId: id, scheduledTime: '2026-03-27T09:00:00Z' })).toEqual({
    outcome: 'skipped',
    reason: 'paused',
  });
  expect(runner.started).toHaveLength(started);
});

test('a run on an app that is not ready is a failed task, once per delivery, announced', async () => {
  const notReady = await app('created');
  const { id } = await schedules.create(daily(notReady.id));
  const event = { scheduleId: id, scheduledTime: '2026-03-27T09:00:00Z' };
  const started = runner.started.length;
  const refused = await runs.run(event);
  expect(refused).toMatchObject({ outcome: 'refused' });
  const taskId = (refused as { taskId: string }).taskId;
  expect(await taskRepository.get(taskId)).toMatchObject({
    state: 'failed',
    principal: `schedule:${id}`,
    failure: { code: 'APP_NOT_READY', message: expect.stringContaining('the scheduled run was refused') },
    endedAt: expect.any(String),
  });
  expect(events).toContainEqual(expect.objectContaining({ taskId, state: 'failed' }));
  expect(runner.started).toHaveLength(started);
  expect(await runs.run(event)).toEqual({ outcome: 'repeated', taskId });
  expect((await schedules.get(id)).lastRun).toMatchObject({ taskId, state: 'failed' });
  // an app removed since: the same
  await apps.remove(notReady);
  const gone = await runs.run({ scheduleId: id, scheduledTime: '2026-03-28T09:00:00Z' });
  expect(await taskRepository.get((gone as { taskId: string }).taskId)).toMatchObject({
    state: 'failed',
    failure: { code: 'APP_NOT_FOUND' },
  });
});
