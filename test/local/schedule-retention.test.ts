/**
 * Retention per schedule, end to end in local mode through HTTP: a schedule of a maintenance that
 * carries its own retention is checked as the app's retention is (a policy keeping nothing is a
 * 400), shows that retention, and its run applies it rather than the app's. The app keeps three
 * snapshots, the schedule one: the run leaves one. Local mode's scheduler fires on a clock where a
 * minute lasts KLOUD_SCHEDULE_MINUTE_MS = 1 s.
 */
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openStore } from '../../layers/kloset/index.js';
import { type Answer, LocalMode } from './local-mode.js';

const PASSPHRASE = 'schedule retention e2e passphrase never logged';
const MINUTE_MS = 1000;
const FINAL = ['succeeded', 'failed', 'cancelled'];
const APP_RETENTION = { keepLast: 3 };
const SCHEDULE_RETENTION = { keepLast: 1 };

let dir: string;
let local: LocalMode;
let storeDir: string;
let appId: string;
/** oldest first */
let snapshots: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-schedule-retention-e2e-'));
  local = new LocalMode(join(dir, 'data'), [], { KLOUD_SCHEDULE_MINUTE_MS: String(MINUTE_MS) });
  await local.start();
  // three backups by the engine, each of a changed file, then adopted by an app keeping all three
  ({ appId, storeDir, snapshots } = await local.directoryAppWithBackups('main', PASSPHRASE, 3, (source, i) =>
    writeFile(join(source, 'file.txt'), `round ${i}`),
  ));
  const set = await local.call('PATCH', `/store-apps/${appId}`, { retention: APP_RETENTION });
  expect(set.status).toBe(200);
}, 120_000);

afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

const maintenanceSchedule = (retention: unknown) => ({
  name: 'keep one',
  expression: 'rate(1 minute)',
  task: { type: 'maintenance', appId, parameters: { retention } },
});

/** The schedule's tasks, as the task list shows them. */
async function scheduledTasks(scheduleId: string): Promise<Answer['body'][]> {
  const page = await local.call('GET', `/tasks?appId=${appId}&limit=100`);
  return (page.body.items as { principal: string }[]).filter((t) => t.principal === `schedule:${scheduleId}`);
}

/** Polls every 100 ms, at most `ms`, until `find` gives something. */
async function until<T>(what: string, find: () => Promise<T | undefined>, ms: number): Promise<T> {
  for (const deadline = Date.now() + ms; Date.now() < deadline;) {
    const found = await find();
    if (found !== undefined) return found;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`${what} did not come to pass within ${ms} ms`);
}

test('a retention keeping nothing is refused at schedule creation and update, with 400 as on the app', async () => {
  for (const retention of [{}, { keepLast: 0 }, { keepWithin: 'soon' }]) {
    const onApp = await local.call('PATCH', `/store-apps/${appId}`, { retention });
    const onSchedule = await local.call('POST', '/schedules', maintenanceSchedule(retention));
    expect(onSchedule).toMatchObject({
      status: 400,
      body: {
        error: {
          code: onApp.body.error.code,
          message: expect.stringContaining('body.task.parameters.retention'),
        },
      },
    });
    expect(onApp.status).toBe(400);
  }
  const created = await local.call('POST', '/schedules', {
    ...maintenanceSchedule(SCHEDULE_RETENTION),
    enabled: false,
  });
  expect(created.status).toBe(201);
  const replaced = await local.call('PUT', `/schedules/${created.body.id}`, {
    ...maintenanceSchedule({}),
  });
  expect(replaced.status).toBe(400);
  expect((await local.call('DELETE', `/schedules/${created.body.id}`)).status).toBe(204);
  expect((await local.call('GET', '/schedules')).body.items).toEqual([]);
});

test("the schedule shows its retention, and its run keeps what that retention says, not the app's", async () => {
  const created = await local.call('POST', '/schedules', maintenanceSchedule(SCHEDULE_RETENTION));
  expect(created).toMatchObject({
    status: 201,
    body: {
      task: { type: 'maintenance', appId, parameters: { retention: SCHEDULE_RETENTION, dryRun: false } },
    },
  });
  const scheduleId = created.body.id as string;
  expect((await local.call('GET', `/schedules/${scheduleId}`)).body.task.parameters.retention).toEqual(
    SCHEDULE_RETENTION,
  );

  // the first run that succeeds (runs fire each second: one may find the store busy with another)
  const first = await until(
    'a succeeded scheduled maintenance',
    async () => (await scheduledTasks(scheduleId)).find((t) => t.state === 'succeeded'),
    30 * MINUTE_MS,
  );
  expect((await local.call('POST', `/schedules/${scheduleId}/pause`)).status).toBe(200);
  // a run already under way ends before the store is looked at
  await until(
    'the scheduled runs to end',
    async () => ((await scheduledTasks(scheduleId)).every((t) => FINAL.includes(t.state)) ? true : undefined),
    60_000,
  );
  const runs = (await scheduledTasks(scheduleId)).filter((t) => t.state === 'succeeded');
  expect(runs.map((t) => t.id)).toContain(first.id);
  for (const run of runs) expect(run.result.retention).toEqual(SCHEDULE_RETENTION);
  expect(runs.reduce((n, t) => n + t.result.snapshots.forgottenCount, 0)).toBe(2);

  const store = await openStore(storeDir, { passphrase: PASSPHRASE });
  try {
    expect((await store.snapshots()).map((s) => s.id)).toEqual([snapshots[2]]);
  } finally {
    await store.close();
  }
  // the app's own policy is as it was
  expect((await local.call('GET', `/store-apps/${appId}`)).body.retention).toEqual(APP_RETENTION);
}, 120_000);
