/**
 * Maintenance end to end in local mode, through HTTP: a retention policy set on an app (a policy
 * that keeps nothing refused), a maintenance task run by the task state machine in slices capped
 * at 1 ms (KLOUD_TASK_SLICE_MS: each does one unit of work), the snapshots it leaves those the
 * policy keeps, and a check of every byte that then succeeds; `kloud remote apps retention` and
 * `kloud remote maintenance` on the same routes.
 */
import { randomBytes } from 'node:crypto';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openStore } from '../../layers/kloset/index.js';
import { TASK_STATES } from '../../lib/task-state-machine.js';
import { Sandbox } from '../cli/sandbox.js';
import { type Answer, LocalMode } from './local-mode.js';

const PASSPHRASE = 'maintenance e2e passphrase never logged';
const FINAL = ['succeeded', 'failed', 'cancelled'];

let dir: string;
let local: LocalMode;
let storeDir: string;
let appId: string;
/** oldest first */
let snapshots: string[];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-maintenance-e2e-'));
  local = new LocalMode(join(dir, 'data'), [], { KLOUD_TASK_SLICE_MS: '1' });
  await local.start();
  // four backups by the engine, each with a file of its own, then adopted by an app
  ({ appId, storeDir, snapshots } = await local.directoryAppWithBackups(
    'main',
    PASSPHRASE,
    4,
    async (source, i) => {
      if (i > 0) await rm(join(source, `round-${i - 1}.bin`));
      await writeFile(join(source, `round-${i}.bin`), randomBytes(100_000));
    },
    { packSize: 128 * 1024 },
  ));
}, 120_000);

afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

async function untilEnded(taskId: string): Promise<Answer> {
  for (let i = 0; i < 1200; i++) {
    const task = await local.call('GET', `/tasks/${taskId}`);
    if (FINAL.includes(task.body.state)) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} did not end within 2 minutes`);
}

function slicesOf(taskId: string): number {
  return local.output
    .split('\n')
    .filter((line) => line.includes(`"state":"${TASK_STATES.slice}"`) && line.includes(taskId)).length;
}

test('a retention that keeps nothing is refused; one that keeps is stored and shown; without one, maintenance is refused', async () => {
  expect(await local.call('POST', `/store-apps/${appId}/maintenance`, {})).toMatchObject({
    status: 422,
    body: { error: { code: 'NO_RETENTION' } },
  });
  for (const retention of [{}, { keepLast: 0 }, { keepWithin: 'soon' }]) {
    expect((await local.call('PATCH', `/store-apps/${appId}`, { retention })).status).toBe(400);
  }
  const set = await local.call('PATCH', `/store-apps/${appId}`, { retention: { keepLast: 2 } });
  expect(set).toMatchObject({ status: 200, body: { retention: { keepLast: 2 }, state: 'ready' } });
  expect((await local.call('GET', `/store-apps/${appId}`)).body.retention).toEqual({ keepLast: 2 });
});

test("a maintenance by the app's policy runs in slices, leaves the snapshots it keeps, and a check then succeeds", async () => {
  const started = await local.call('POST', `/store-apps/${appId}/maintenance`, {});
  expect(started).toMatchObject({ status: 202, body: { type: 'maintenance', appId } });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({
    state: 'succeeded',
    result: {
      dryRun: false,
      retention: { keepLast: 2 },
      snapshots: { forgottenCount: 2, keptCount: 2, kept: [snapshots[3], snapshots[2]] },
    },
  });
  // the first run plans what only the forgotten snapshots held; the grace period keeps it a day
  expect(ended.body.result.packs.planned).toBeGreaterThan(0);
  expect(ended.body.result.plannedBytes).toBeGreaterThan(100_000);
  expect(slicesOf(started.body.id)).toBeGreaterThan(2);

  const store = await openStore(storeDir, { passphrase: PASSPHRASE });
  try {
    expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([snapshots[2], snapshots[3]].sort());
  } finally {
    await store.close();
  }
  const check = await local.call('POST', `/store-apps/${appId}/checks`, { readData: true });
  expect((await untilEnded(check.body.id)).body).toMatchObject({ state: 'succeeded', result: { ok: true } });
});

test('kloud remote apps retention sets the policy (none: a usage error); kloud remote maintenance --dry-run reports and changes nothing', async () => {
  const sandbox = await Sandbox.create();
  const remote = (args: string[]) =>
    sandbox.run(['remote', ...args], { env: { KLOUD_URL: local.url, KLOUD_TOKEN: local.token } });
  try {
    expect((await remote(['apps', 'retention', 'main'])).code).toBe(2);
    const set = await remote(['apps', 'retention', 'main', '--keep-last', '1', '--keep-tag', 'release']);
    expect(set).toMatchObject({ code: 0, stdout: 'app main: retention --keep-last 1 --keep-tag release\n' });
    expect((await remote(['apps', 'show', 'main'])).stdout).toContain(
      'retention:    --keep-last 1 --keep-tag release',
    );

    const dry = await remote(['maintenance', 'main', '--dry-run', '--wait']);
    expect(dry.code).toBe(0);
    expect(dry.stdout).toContain(`forgotten: ${snapshots[2]}`);
    expect(dry.stdout).toContain('1 snapshot would be forgotten, 1 kept');
    const json = await remote(['maintenance', 'main', '--keep-last', '2', '--dry-run', '--wait', '--json']);
    expect(JSON.parse(json.stdout)).toMatchObject({
      state: 'succeeded',
      parameters: { retention: { keepLast: 2 }, dryRun: true },
      result: { snapshots: { forgottenCount: 0, keptCount: 2 } },
    });
    const store = await openStore(storeDir, { passphrase: PASSPHRASE });
    try {
      expect(await store.snapshots()).toHaveLength(2);
    } finally {
      await store.close();
    }
  } finally {
    await sandbox.dispose();
  }
});
