/**
 * `kloud remote schedules` and `kloud remote schedule ...` against local mode: create with an app
 * named, list, show, update what is given, pause, resume, delete; the API's refusal of an
 * expression on stderr with exit code 1.
 */
import { LocalMode } from '../local/local-mode.js';
import { Sandbox } from './sandbox.js';

const PASSPHRASE = 'remote schedules passphrase';

let sandbox: Sandbox;
let local: LocalMode;
let appId = '';

function remote(args: string[]) {
  return sandbox.run(['remote', ...args], {
    env: { KLOUD_URL: local.url, KLOUD_TOKEN: local.token, KLOUD_PASSPHRASE: PASSPHRASE },
  });
}

beforeAll(async () => {
  sandbox = await Sandbox.create();
  local = new LocalMode(sandbox.path('local'), []);
  await local.start();
  const created = await remote([
    'apps',
    'create',
    'main',
    '--resource',
    'directory:backups',
    '--configuration',
    '{"path":"main"}',
    '--json',
  ]);
  appId = JSON.parse(created.stdout).id;
}, 60_000);

afterAll(async () => {
  await local?.stop();
  await sandbox?.dispose();
});

test('create, list, show, update, pause, resume and delete a schedule', async () => {
  const created = await remote([
    'schedule',
    'create',
    'nightly check',
    '--app',
    'main',
    '--expression',
    'cron(0 2 * * ? *)',
    '--timezone',
    'Europe/Paris',
    '--parameters',
    '{"readData":true}',
    '--json',
  ]);
  expect(created).toMatchObject({ code: 0, stderr: '' });
  const schedule = JSON.parse(created.stdout);
  expect(schedule).toMatchObject({
    name: 'nightly check',
    expression: 'cron(0 2 * * ? *)',
    timezone: 'Europe/Paris',
    enabled: true,
    task: { type: 'check', appId, parameters: { readData: true } },
  });
  // 02:00 in Paris is 01:00 UTC in winter
  expect(schedule.nextRuns[0]).toMatch(/T01:00:00\.000Z$/);

  const listed = await remote(['schedules']);
  expect(listed.code).toBe(0);
  expect(listed.stdout).toContain(
    `${schedule.id}  enabled  cron(0 2 * * ? *) Europe/Paris  check app ${appId}`,
  );
  expect(listed.stdout).toContain('last never');

  const updated = await remote(['schedule', 'update', schedule.id, '--expression', 'rate(6 hours)']);
  expect(updated.code).toBe(0);
  expect(updated.stdout).toContain('expression: rate(6 hours) (Europe/Paris)');
  // what was not given stayed
  expect(updated.stdout).toContain(`task:       check on app ${appId} {"readData":true}`);

  const paused = await remote(['schedule', 'pause', schedule.id]);
  expect(paused.stdout).toContain('state:      paused');
  expect(paused.stdout).toContain('next runs:  none');
  const again = await remote(['schedule', 'pause', schedule.id]);
  expect(again.code).toBe(1);
  expect(again.stderr).toContain('SCHEDULE_PAUSED');
  expect((await remote(['schedule', 'resume', schedule.id])).stdout).toContain('state:      enabled');
  expect((await remote(['schedule', 'show', schedule.id])).stdout).toContain('last run:   never');

  expect(await remote(['schedule', 'delete', schedule.id])).toMatchObject({
    code: 0,
    stdout: `deleted schedule ${schedule.id}\n`,
  });
  const gone = await remote(['schedule', 'show', schedule.id]);
  expect(gone.code).toBe(1);
  expect(gone.stderr).toContain('SCHEDULE_NOT_FOUND');
  expect((await remote(['schedules'])).stderr).toContain('no schedules');
}, 60_000);

test("the API's refusal of an expression is on stderr, exit code 1", async () => {
  const refused = await remote([
    'schedule',
    'create',
    'bad',
    '--app',
    appId,
    '--expression',
    'cron(0 2 * * * *)',
  ]);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toContain('one of day-of-month and day-of-week must be "?"');
  expect(refused.stdout).toBe('');
});

test("a maintenance schedule's --keep-* options are its own retention; other types refuse them", async () => {
  const created = await remote([
    'schedule',
    'create',
    'nightly prune',
    '--app',
    'main',
    '--type',
    'maintenance',
    '--expression',
    'cron(0 4 * * ? *)',
    '--keep-daily',
    '7',
    '--keep-weekly',
    '8',
    '--paused',
    '--json',
  ]);
  expect(created).toMatchObject({ code: 0, stderr: '' });
  const schedule = JSON.parse(created.stdout);
  expect(schedule.task).toEqual({
    type: 'maintenance',
    appId,
    parameters: { retention: { keepDaily: 7, keepWeekly: 8 }, dryRun: false },
  });

  // --keep-* replace the retention whole; the other parameters stay
  await remote(['schedule', 'update', schedule.id, '--parameters', '{"dryRun":true}']);
  const updated = await remote(['schedule', 'update', schedule.id, '--keep-last', '14']);
  expect(updated.code).toBe(0);
  expect(updated.stdout).toContain(
    `task:       maintenance on app ${appId} {"retention":{"keepLast":14},"dryRun":true}`,
  );

  const check = await remote(['schedule', 'update', schedule.id, '--type', 'check', '--keep-last', '1']);
  expect(check.code).toBe(2);
  expect(check.stderr).toContain("--keep-* options are a maintenance's retention, not a check's");
  // the API refuses a policy that keeps nothing, as for an app
  const none = await remote(['schedule', 'update', schedule.id, '--parameters', '{"retention":{}}']);
  expect(none.code).toBe(1);
  expect(none.stderr).toContain('body.task.parameters.retention');
  expect((await remote(['schedule', 'delete', schedule.id])).code).toBe(0);
}, 60_000);
