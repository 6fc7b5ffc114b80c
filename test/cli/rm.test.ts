/** `rm` selects snapshots by ID, age and tag; three quick snapshots of a one-file tree. */
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;
let ids: { daily1: string; weekly: string; daily2: string };

beforeEach(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
});
afterEach(() => sandbox.dispose());

async function threeSnapshots(): Promise<void> {
  await sandbox.writeTree('data', { 'a.txt': 'a' });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  ids = { daily1: await backup('daily'), weekly: await backup('weekly'), daily2: await backup('daily') };
}

async function backup(tag: string): Promise<string> {
  const run = await sandbox.ok(['at', store, 'backup', sandbox.path('data'), '--tag', tag, '--json']);
  return JSON.parse(run.stdout).snapshot as string;
}

test('--tag and --older-than select together; --dry-run only shows; --json is one array', async () => {
  await threeSnapshots();
  const dry = await sandbox.ok(['at', store, 'rm', '--tag', 'daily', '--dry-run']);
  expect(dry.stdout).toMatch(
    new RegExp(
      `^would remove ${ids.daily2.slice(0, 8)}  .*\\[daily\\]\\nwould remove ${ids.daily1.slice(0, 8)}  `,
    ),
  );
  expect(dry.stderr).toBe('dry run: 2 snapshots would be removed; nothing was changed\n');
  expect(await sandbox.snapshotIds(store)).toHaveLength(3);

  const young = await sandbox.ok(['at', store, 'rm', '--tag', 'daily', '--older-than', '1d']);
  expect([young.stdout, young.stderr]).toEqual(['', 'no snapshot matches: nothing removed\n']);

  const removed = await sandbox.ok(['at', store, 'rm', '--tag', 'daily', '--older-than', '0s', '--json']);
  expect(removed.stderr).toBe('');
  const records = JSON.parse(removed.stdout) as { id: string; tags: string[] }[];
  expect(records.map((r) => r.id).sort()).toEqual([ids.daily1, ids.daily2].sort());
  expect(records[0].tags).toEqual(['daily']);
  expect(await sandbox.snapshotIds(store)).toEqual([ids.weekly]);
});

test('rm SNAPSHOT... removes those; a removed snapshot is gone for good', async () => {
  await threeSnapshots();
  const run = await sandbox.ok(['at', store, 'rm', ids.weekly.slice(0, 6), 'latest']);
  expect(run.stdout).toMatch(
    new RegExp(`^removed ${ids.weekly.slice(0, 8)}  .*\\nremoved ${ids.daily2.slice(0, 8)}  .*\\n$`),
  );
  expect(run.stderr).toBe('2 snapshots removed; the data stays in the store until kloud prune\n');
  expect(await sandbox.snapshotIds(store)).toEqual([ids.daily1]);
  const again = await sandbox.run(['at', store, 'rm', ids.weekly]);
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/ — list the snapshots with: kloud ls\n$/);
  await sandbox.ok(['at', store, 'check']);
});

test('rm without a selection, or with a bad age, is a usage error before the store is opened', async () => {
  // no store there: a command that got as far as opening it would say so instead
  const cases: [string[], RegExp][] = [
    [['rm'], /^error: no snapshot selected — give snapshot IDs, --older-than AGE or --tag TAG\n$/],
    [['rm', '--dry-run'], /^error: no snapshot selected — /],
    [
      ['rm', '--older-than', '30x'],
      /^error: bad age "30x" — write a whole number and a unit: s, m \(minutes\)/,
    ],
    [['rm', '--older-than', '30'], /^error: bad age "30" — /],
    [['rm', '--older-than', '1.5d'], /^error: bad age "1.5d" — /],
    [
      ['rm', '--older-than'],
      /^error: option '--older-than <age>' argument missing — see 'kloud rm --help'\n$/,
    ],
  ];
  for (const [args, message] of cases) {
    const run = await sandbox.run(['at', store, ...args]);
    expect([args, run.code, run.stderr, run.stdout]).toEqual([args, 2, expect.stringMatching(message), '']);
  }
});
