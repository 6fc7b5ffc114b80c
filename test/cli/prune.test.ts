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
    // the forgotten snapshot's record stays (sync reads it), its tree goes: its pack is rewritten
    /^would plan 1 pack \([\d.]+ KiB\): a prune after 0s deletes them\nwould rewrite 1 pack \([\d.]+ KiB\), moving the \d+ B still used to new packs; a prune after 0s deletes the old ones\nwould consolidate 3 index deltas into one\ndry run: nothing was changed\n$/,
  );
  const first = await sandbox.ok(['at', store, 'prune', '--grace', '0s', '--json']);
  const planned = JSON.parse(first.stdout) as {
    deleted: unknown[];
    planned: { name: string }[];
    repacked: { name: string; liveBytes: number }[];
    packsWritten: number;
  };
  expect([planned.deleted, planned.planned.length, planned.repacked.length, planned.packsWritten]).toEqual([
    [],
    1,
    1,
    1,
  ]);

  const second = await sandbox.ok(['at', store, 'prune', '--grace', '0s']);
  expect(second.stdout).toMatch(
    /^deleted 2 packs \([\d.]+ KiB\)\nconsolidated 2 index deltas into one\nfreed [\d.]+ KiB\n$/,
  );
  expect((await sandbox.ok(['at', store, 'prune'])).stdout).toBe('nothing to prune\n');
  await sandbox.ok(['at', store, 'check', '--read-data']);
  await sandbox.ok(['at', store, 'restore', 'latest', '--to', sandbox.path('out')]);
  expect(await readFile(join(sandbox.path('out'), sandbox.path('data/new.txt')), 'utf8')).toBe('kept');
});

test.each([
  [['--grace', '1x'], /^error: bad age "1x" — /],
  [['--repack-threshold', '0%'], /^error: bad repack threshold "0%" — /],
  [['--max-repack-size', '2X'], /^error: bad size "2X" — /],
])('a malformed option is a usage error: %j', async (args, message) => {
  const run = await sandbox.run(['at', store, 'prune', ...args]);
  expect([run.code, run.stdout]).toEqual([2, '']);
  expect(run.stderr).toMatch(message);
});

test('--repack-threshold 100% and --max-repack-size bound what is rewritten', async () => {
  await sandbox.writeTree('data', { 'old.bin': randomBytes(50_000).toString('base64'), 'kept.txt': 'kept' });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  await rm(sandbox.path('data/old.bin'));
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  await sandbox.ok(['at', store, 'forget', '--keep-last', '1']);
  const rewritten = async (...args: string[]) =>
    (
      JSON.parse((await sandbox.ok(['at', store, 'prune', '--dry-run', '--json', ...args])).stdout) as {
        repacked: unknown[];
      }
    ).repacked.length;
  expect(await rewritten()).toBeGreaterThan(0);
  expect(await rewritten('--repack-threshold', '100%')).toBe(0);
  expect(await rewritten('--max-repack-size', '100')).toBe(0);
  expect(await rewritten('--max-repack-size', '1M')).toBeGreaterThan(0);
});
