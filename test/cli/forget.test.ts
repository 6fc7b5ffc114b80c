/** `forget` keeps by policy, group by group; three quick snapshots of two one-file trees. */
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;

beforeEach(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
});
afterEach(() => sandbox.dispose());

async function backup(dir: string, tag: string): Promise<string> {
  const run = await sandbox.ok(['at', store, 'backup', sandbox.path(dir), '--tag', tag, '--json']);
  return JSON.parse(run.stdout).snapshot as string;
}

test('forget keeps the newest of each group; --dry-run shows the rules and changes nothing; --json', async () => {
  await sandbox.writeTree('one', { 'a.txt': 'a' });
  await sandbox.writeTree('two', { 'b.txt': 'b' });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const old = await backup('one', 'daily');
  const release = await backup('two', 'release');
  const newest = await backup('one', 'daily');

  const dry = await sandbox.ok([
    'at',
    store,
    'forget',
    '--keep-last',
    '1',
    '--keep-tag',
    'release',
    '--dry-run',
  ]);
  expect(dry.stdout).toContain(`sources ${sandbox.path('one')}:\n  keep         ${newest.slice(0, 8)}  `);
  expect(dry.stdout).toMatch(new RegExp(`\\n  would forget ${old.slice(0, 8)}  .*\\[daily\\]\\n`));
  expect(dry.stdout).toMatch(
    new RegExp(`  keep         ${release.slice(0, 8)}  .*\\[release\\]  \\(last, tag\\)\\n`),
  );
  expect(dry.stderr).toBe('dry run: 1 snapshot would be forgotten, 2 kept; nothing was changed\n');
  expect((await sandbox.snapshotIds(store)).sort()).toHaveLength(3);

  const run = await sandbox.ok(['at', store, 'forget', '--keep-last', '1', '--json']);
  expect(run.stderr).toBe('');
  const groups = JSON.parse(run.stdout) as {
    sources: string[];
    keep: { id: string; reasons: string[] }[];
    forget: { id: string }[];
  }[];
  const one = groups.find((g) => g.sources[0] === sandbox.path('one'))!;
  expect(one.keep.map((s) => [s.id, s.reasons])).toEqual([[newest, ['last']]]);
  expect(one.forget.map((s) => s.id)).toEqual([old]);
  expect((await sandbox.snapshotIds(store)).sort()).toEqual([newest, release].sort());

  const again = await sandbox.ok(['at', store, 'forget', '--keep-within', '1y', '--group-by', '']);
  expect(again.stdout).toMatch(/^all snapshots:\n {2}keep {2}/);
  expect(again.stderr).toBe('2 snapshots kept: nothing to forget\n');
  await sandbox.ok(['at', store, 'check']);
});

test('--unsafe-allow-remove-all forgets everything', async () => {
  await sandbox.writeTree('one', { 'a.txt': 'a' });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await backup('one', 'x');
  const run = await sandbox.ok(['at', store, 'forget', '--unsafe-allow-remove-all']);
  expect(run.stderr).toBe('1 snapshot forgotten, 0 kept; the data stays in the store until kloud prune\n');
  expect(await sandbox.ok(['at', store, 'ls', '--json'])).toMatchObject({ stdout: '' });
});

test('a policy that keeps nothing or a malformed rule is a usage error before the store is opened', async () => {
  const cases: [string[], RegExp][] = [
    [
      ['forget'],
      /^error: this policy keeps no snapshot — give a --keep-\* rule, or --unsafe-allow-remove-all/,
    ],
    [['forget', '--dry-run'], /^error: this policy keeps no snapshot — /],
    [['forget', '--keep-daily', '0'], /^error: option '--keep-daily <n>' argument '0' is invalid/],
    [['forget', '--keep-last', 'x'], /^error: option '--keep-last <n>' argument 'x' is invalid/],
    [['forget', '--keep-within', '2w'], /^error: bad duration "2w" — write whole numbers with y \(years\)/],
    [['forget', '--keep-within', 'm1'], /^error: bad duration "m1" — /],
    [['forget', '--keep-last', '1', '--group-by', 'host,user'], /^error: cannot group by "user" — /],
  ];
  for (const [args, message] of cases) {
    const run = await sandbox.run(['at', store, ...args]);
    expect([args, run.code, run.stderr, run.stdout]).toEqual([args, 2, expect.stringMatching(message), '']);
  }
});
