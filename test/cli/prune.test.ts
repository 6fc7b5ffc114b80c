/** `prune` after `forget`: plans, then deletes; the kept snapshot restores and check passes. */
import { randomBytes } from 'node:crypto';
import { readFile, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;

beforeEach(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
});
afterEach(() => sandbox.dispose());

test('forget, then prune twice: the forgotten data goes, the kept snapshot restores whole', async () => {
  await sandbox.writeTree('data', { 'old.bin': randomBytes(50_000).toString('base64') });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  await rm(sandbox.path('data/old.bin'));
  await sandbox.writeTree('data', { 'new.txt': 'kept' });
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  await sandbox.ok(['at', store, 'forget', '--keep-last', '1']);

  const dry = await sandbox.ok(['at', store, 'prune', '--grace', '0s', '--dry-run']);
  expect(dry.stdout).toMatch(
    /^would plan 1 pack \([\d.]+ KiB\): a prune after 0s deletes them\nwould consolidate 3 index deltas into one\ndry run: nothing was changed\n$/,
  );
  const first = await sandbox.ok(['at', store, 'prune', '--grace', '0s', '--json']);
  const planned = JSON.parse(first.stdout) as { deleted: unknown[]; planned: { name: string }[] };
  expect([planned.deleted, planned.planned.length]).toEqual([[], 1]);

  const second = await sandbox.ok(['at', store, 'prune', '--grace', '0s']);
  expect(second.stdout).toMatch(/^deleted 1 pack \([\d.]+ KiB\)\nconsolidated 1 index delta into one\n$/);
  expect((await sandbox.ok(['at', store, 'prune'])).stdout).toBe('nothing to prune\n');
  await sandbox.ok(['at', store, 'check', '--read-data']);
  await sandbox.ok(['at', store, 'restore', 'latest', '--to', sandbox.path('out')]);
  expect(await readFile(join(sandbox.path('out'), sandbox.path('data/new.txt')), 'utf8')).toBe('kept');
});

test('a malformed grace period is a usage error', async () => {
  const run = await sandbox.run(['at', store, 'prune', '--grace', '1x']);
  expect([run.code, run.stdout]).toEqual([2, '']);
  expect(run.stderr).toMatch(/^error: bad age "1x" — /);
});
