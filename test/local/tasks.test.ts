/**
 * Tasks end to end in local mode, through HTTP: the task state machine synthesized from lib/ runs
 * the task worker slice after slice. Each slice is capped at 1 ms (KLOUD_TASK_SLICE_MS), so a
 * slice does one unit of work and a check of a store of many packs takes many invocations: the
 * forced continuation. A check of a sound store succeeds with the same report as the CLI's; a
 * flipped byte fails it naming the damaged file; a running task is cancelled; a repeated
 * Idempotency-Key answers the same task; every state change is an event in the log.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, readdir, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { createStore, openStore } from '../../layers/kloset/index.js';
import { RESTORE_STATES } from '../../lib/restore-state-machine.js';
import { TASK_STATES } from '../../lib/task-state-machine.js';
import { type Answer, LocalMode } from './local-mode.js';

const PASSPHRASE = 'tasks e2e passphrase never logged';
const FINAL = ['succeeded', 'failed', 'cancelled'];

let dir: string;
let local: LocalMode;
let storeDir: string;
let appId: string;

/** `count` files of pseudo-random bytes (incompressible, so every one fills packs) */
async function writeFiles(into: string, count: number, bytes: number): Promise<void> {
  for (let i = 0; i < count; i++) {
    const parts: Buffer[] = [];
    for (let n = 0; n * 32 < bytes; n++) parts.push(createHash('sha256').update(`${i}:${n}`).digest());
    await writeFile(
      join(into, `file-${String(i).padStart(2, '0')}.bin`),
      Buffer.concat(parts).subarray(0, bytes),
    );
  }
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-tasks-e2e-'));
  local = new LocalMode(join(dir, 'data'), [], { KLOUD_TASK_SLICE_MS: '1' });
  await local.start();
  // a store of many small packs, made by the engine, then adopted by an app
  storeDir = join(dir, 'data', 'directories', 'backups', 'main');
  const source = join(dir, 'source');
  await import('node:fs/promises').then((fs) => fs.mkdir(source, { recursive: true }));
  await writeFiles(source, 24, 96 * 1024);
  await createStore(storeDir, { passphrase: PASSPHRASE, packSize: 128 * 1024 });
  const store = await openStore(storeDir, { passphrase: PASSPHRASE });
  try {
    await store.backup([source]);
  } finally {
    await store.close();
  }
  appId = await local.readyDirectoryApp('main', PASSPHRASE);
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

/** how many times the state machine called a slice of the task (local mode logs each invocation) */
function slicesOf(taskId: string, state: string = TASK_STATES.slice): number {
  return local.output
    .split('\n')
    .filter((line) => line.includes(`"state":"${state}"`) && line.includes(taskId)).length;
}

async function packFiles(): Promise<{ path: string; size: number }[]> {
  const packs: { path: string; size: number }[] = [];
  for (const sub of await readdir(join(storeDir, 'packs'))) {
    for (const name of await readdir(join(storeDir, 'packs', sub))) {
      const path = join(storeDir, 'packs', sub, name);
      packs.push({ path, size: (await stat(path)).size });
    }
  }
  return packs;
}

test('a check of a sound store, one pack per slice: many slices, succeeded, the full report', async () => {
  const started = await local.call('POST', `/store-apps/${appId}/checks`, { readData: true });
  expect(started).toMatchObject({
    status: 202,
    body: { type: 'check', appId, state: expect.stringMatching(/^(queued|running)$/), principal: 'local' },
  });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({
    state: 'succeeded',
    executionArn: expect.stringContaining(started.body.id),
    result: { ok: true, problems: [] },
  });
  const packs = (await packFiles()).length;
  expect(packs).toBeGreaterThan(10);
  expect(ended.body.progress.done).toBe(ended.body.progress.total);
  // at least one slice per pack read: the work went on across many invocations
  expect(slicesOf(started.body.id)).toBeGreaterThan(packs / 2);
  // its state changes were published, in order
  const states = local.output
    .split('\n')
    .filter((line) => line.includes('"Task State Change"') && line.includes(started.body.id))
    .map((line) => JSON.parse(line.slice(line.indexOf('{'))).event.detail.state);
  expect(states).toEqual(['queued', 'running', 'succeeded'].slice(states[0] === 'queued' ? 0 : 1));
}, 180_000);

test('the same Idempotency-Key answers the same task; with another request it is refused', async () => {
  const headers = { authorization: `Bearer ${local.token}`, 'idempotency-key': 'ci-run-4711' };
  const first = await local.call('POST', `/store-apps/${appId}/checks`, { readData: false }, headers);
  const again = await local.call('POST', `/store-apps/${appId}/checks`, { readData: false }, headers);
  expect(first.status).toBe(202);
  expect(again).toMatchObject({ status: 200, body: { id: first.body.id } });
  const other = await local.call('POST', `/store-apps/${appId}/checks`, { readData: true }, headers);
  expect(other).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
  expect((await untilEnded(first.body.id)).body.state).toBe('succeeded');
  const listed = await local.call('GET', `/tasks?appId=${appId}&type=check&limit=100`);
  expect(listed.body.items.filter((t: { id: string }) => t.id === first.body.id)).toHaveLength(1);
}, 180_000);

test('a running task is cancelled: it stops between two slices and says so', async () => {
  const started = await local.call('POST', `/store-apps/${appId}/checks`, { readData: true });
  for (let i = 0; i < 600; i++) {
    const task = await local.call('GET', `/tasks/${started.body.id}`);
    if (task.body.state === 'running' && (task.body.progress?.done ?? 0) >= 2) break;
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  const cancelled = await local.call('POST', `/tasks/${started.body.id}/cancel`);
  expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
  const ended = await untilEnded(started.body.id);
  expect(ended.body.state).toBe('cancelled');
  const slices = slicesOf(started.body.id);
  await new Promise((resolve) => setTimeout(resolve, 500));
  expect(slicesOf(started.body.id)).toBe(slices);
  expect(ended.body.progress.done).toBeLessThan(ended.body.progress.total);
  const again = await local.call('POST', `/tasks/${started.body.id}/cancel`);
  expect(again).toMatchObject({ status: 409, body: { error: { code: 'TASK_ENDED' } } });
}, 180_000);

async function readyApp(name: string): Promise<string> {
  const created = await local.call('POST', '/store-apps', {
    resourceId: 'directory:backups',
    name,
    storageType: 'standard',
    configuration: { path: name },
    passphrase: PASSPHRASE,
  });
  expect(created.status).toBe(201);
  expect((await local.call('POST', `/store-apps/${created.body.id}/initialize`)).status).toBe(201);
  return created.body.id;
}

test('a sync to a second app and a restore of a subtree onto a third app, in many slices', async () => {
  const copyId = await readyApp('copy');
  const synced = await untilEnded(
    (await local.call('POST', `/store-apps/${appId}/syncs`, { peerAppId: copyId })).body.id,
  );
  expect(synced.body).toMatchObject({ state: 'succeeded', result: { copied: [expect.any(Object)] } });
  const copied = await local.call('GET', `/store-apps/${copyId}/snapshots`);
  expect(copied.body.items).toHaveLength(1);
  // restored from the copy, so the copy is proven whole
  const landingId = await readyApp('landing');
  const source = join(dir, 'source');
  const started = await local.call('POST', `/store-apps/${copyId}/restores`, {
    snapshot: 'latest',
    paths: [source],
    destination: { appId: landingId, path: 'restored' },
  });
  expect(started.status).toBe(202);
  const restored = await untilEnded(started.body.id);
  expect(restored.body).toMatchObject({ state: 'succeeded', result: { files: 24, errors: [] } });
  // restores run on their own workflow (lib/restore-state-machine.ts)
  expect(slicesOf(started.body.id, RESTORE_STATES.slice)).toBeGreaterThan(1);
  const into = join(dir, 'data', 'directories', 'backups', 'restored', 'source');
  for (const name of await readdir(source))
    expect((await readFile(join(into, name))).equals(await readFile(join(source, name)))).toBe(true);
  // into a store (here the first app's): refused when asked for, no task made
  const inStore = await local.call('POST', `/store-apps/${copyId}/restores`, {
    snapshot: 'latest',
    destination: { appId: landingId, path: 'main/x' },
  });
  expect(inStore).toMatchObject({ status: 422, body: { error: { code: 'DESTINATION_IN_STORE' } } });
}, 180_000);

test('a flipped byte in a data pack fails the check, naming the damaged file', async () => {
  const largest = (await packFiles()).sort((a, b) => b.size - a.size)[0]!;
  const bytes = await readFile(largest.path);
  bytes[Math.floor(bytes.length / 3)]! ^= 0x01;
  await writeFile(largest.path, bytes);
  const started = await local.call('POST', `/store-apps/${appId}/checks`, { readData: true });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({
    state: 'failed',
    failure: { code: 'CHECK_FOUND_PROBLEMS' },
    result: { ok: false },
  });
  const named = JSON.stringify(ended.body.result.problems);
  expect(named).toMatch(/file-\d\d\.bin/);
  expect(ended.body.failure.message).toMatch(/file-\d\d\.bin|damaged|pack/);
}, 180_000);

test('no answer and no log line holds the passphrase', () => {
  for (const text of [local.output, ...local.answers]) expect(text).not.toContain(PASSPHRASE);
});
