/**
 * Schedules end to end in local mode, through HTTP: a `rate(1 minute)` schedule of a check,
 * created through the API, fires in local mode's scheduler (croner's times, on a clock where a
 * minute lasts KLOUD_SCHEDULE_MINUTE_MS = 1 s) and its run is a check task that succeeds, started
 * by `schedule:<id>` and shown as the schedule's last run. Paused, it fires no more; after a
 * restart of local mode the stored schedules are armed again; deleted, it is gone.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createStore } from '../../layers/kloset/index.js';
import { type Answer, LocalMode } from './local-mode.js';

const PASSPHRASE = 'schedules e2e passphrase never logged';
const MINUTE_MS = 1000;

let dir: string;
let local: LocalMode;
let appId: string;

function localMode(): LocalMode {
  return new LocalMode(join(dir, 'data'), [], { KLOUD_SCHEDULE_MINUTE_MS: String(MINUTE_MS) });
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-schedules-e2e-'));
  local = localMode();
  await local.start();
  await createStore(join(dir, 'data', 'directories', 'backups', 'main'), { passphrase: PASSPHRASE });
  appId = await local.readyDirectoryApp('main', PASSPHRASE);
}, 120_000);

afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** `GET path` until `done` accepts the answer, every 100 ms for at most `ms`. */
async function until(path: string, done: (answer: Answer) => boolean, ms: number): Promise<Answer> {
  let answer: Answer | undefined;
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    answer = await local.call('GET', path);
    if (done(answer)) return answer;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`GET ${path} did not come to pass within ${ms} ms: ${JSON.stringify(answer?.body)}`);
}

/** The IDs of the app's tasks that the schedule started. */
async function scheduledTasks(scheduleId: string): Promise<string[]> {
  const page = await local.call('GET', `/tasks?appId=${appId}&limit=100`);
  return (page.body.items as { id: string; principal: string }[])
    .filter((task) => task.principal === `schedule:${scheduleId}`)
    .map((task) => task.id);
}

let scheduleId: string;

test('a rate(1 minute) schedule of a check fires and its run is a succeeded check, its last run', async () => {
  const created = await local.call('POST', '/schedules', {
    name: 'every minute',
    expression: 'rate(1 minute)',
    task: { type: 'check', appId },
  });
  expect(created).toMatchObject({
    status: 201,
    body: {
      expression: 'rate(1 minute)',
      timezone: 'UTC',
      enabled: true,
      task: { type: 'check', appId, parameters: { readData: false } },
      nextRuns: expect.any(Array),
    },
  });
  expect(created.body.nextRuns).toHaveLength(3);
  scheduleId = created.body.id;
  // a run each second: the last run may still be under way when read, so follow that one to its end
  const fired = await until(`/schedules/${scheduleId}`, (a) => a.body.lastRun !== undefined, 30 * MINUTE_MS);
  const task = await until(
    `/tasks/${fired.body.lastRun.taskId}`,
    (a) => ['succeeded', 'failed', 'cancelled'].includes(a.body.state),
    30_000,
  );
  expect(task.body).toMatchObject({
    type: 'check',
    appId,
    state: 'succeeded',
    principal: `schedule:${scheduleId}`,
    result: { ok: true },
  });
  // each run is its own task, one per scheduled time
  await until(`/schedules/${scheduleId}`, (a) => a.body.lastRun.taskId !== task.body.id, 10 * MINUTE_MS);
  expect((await scheduledTasks(scheduleId)).length).toBeGreaterThanOrEqual(2);
}, 60_000);

test('paused, it fires no more; resumed and local mode restarted, it fires again', async () => {
  expect(await local.call('POST', `/schedules/${scheduleId}/pause`)).toMatchObject({
    status: 200,
    body: { enabled: false, nextRuns: [] },
  });
  // a run already under way may still record itself: count once it has settled
  await new Promise((resolve) => setTimeout(resolve, 2 * MINUTE_MS));
  const before = await scheduledTasks(scheduleId);
  await new Promise((resolve) => setTimeout(resolve, 4 * MINUTE_MS));
  expect(await scheduledTasks(scheduleId)).toEqual(before);

  expect(await local.call('POST', `/schedules/${scheduleId}/resume`)).toMatchObject({
    status: 200,
    body: { enabled: true },
  });
  expect(await local.stop()).toBe(0);
  local = localMode();
  await local.start();
  await until(
    `/tasks?appId=${appId}&limit=100`,
    (a) =>
      (a.body.items as { principal: string }[]).filter((t) => t.principal === `schedule:${scheduleId}`)
        .length > before.length,
    30 * MINUTE_MS,
  );
}, 90_000);

test('a bad expression is refused with what is wrong; a deleted schedule is gone', async () => {
  const refused = await local.call('POST', '/schedules', {
    name: 'bad',
    expression: 'cron(0 10 * * * *)',
    task: { type: 'check', appId },
  });
  expect(refused).toMatchObject({
    status: 400,
    body: { error: { code: 'INVALID_INPUT', message: expect.stringContaining('body.expression') } },
  });
  expect((await local.call('DELETE', `/schedules/${scheduleId}`)).status).toBe(204);
  expect(await local.call('GET', `/schedules/${scheduleId}`)).toMatchObject({
    status: 404,
    body: { error: { code: 'SCHEDULE_NOT_FOUND' } },
  });
  expect((await local.call('GET', '/schedules')).body.items).toEqual([]);
});
