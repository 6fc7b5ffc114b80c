/** `diff` and `find` read two snapshots of one small tree; nothing here changes the store. */
import { chmod, rm, writeFile } from 'node:fs/promises';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;
let data: string;
let first: string;
let second: string;

beforeAll(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
  data = await sandbox.writeTree('data', {
    'notes.txt': 'first notes\n',
    'bin/tool.sh': 'echo tool\n',
    'docs/old.txt': 'old',
    'docs/report.md': '# report\n',
  });
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  first = await backup('first');
  await writeFile(`${data}/notes.txt`, 'second notes, longer\n');
  await rm(`${data}/docs/old.txt`);
  await writeFile(`${data}/docs/new.md`, '# new\n');
  await chmod(`${data}/bin/tool.sh`, 0o700);
  second = await backup('second');
});
afterAll(() => sandbox.dispose());

async function backup(tag: string): Promise<string> {
  const run = await sandbox.ok(['at', store, 'backup', data, '--tag', tag, '--json']);
  return JSON.parse(run.stdout).snapshot as string;
}

const lines = (text: string) => text.trim().split('\n');
const short = (id: string) => id.slice(0, 8);

test('diff of two snapshots: one mark and one absolute path per change, the summary on stderr', async () => {
  const run = await sandbox.ok(['at', store, 'diff', short(first), 'latest']);
  // the directories above the tree (/tmp/) may change between the backups too: others write there
  expect(lines(run.stdout).filter((line) => line.includes(data))).toEqual([
    `U ${data}/bin/tool.sh`,
    `U ${data}/docs/`,
    `+ ${data}/docs/new.md`,
    `- ${data}/docs/old.txt`,
    `M ${data}/notes.txt`,
  ]);
  const metadata = lines(run.stdout).filter((line) => line.startsWith('U ')).length;
  expect(run.stderr).toBe(`1 added, 1 removed, 1 modified, ${metadata} metadata only\n`);
  const same = await sandbox.ok(['at', store, 'diff', second, 'latest']);
  expect([same.stdout, same.stderr]).toEqual(['', 'no differences\n']);
});

test('diff of two paths with --json: NDJSON of the changes relative to them, nothing else', async () => {
  const run = await sandbox.ok([
    'at',
    store,
    'diff',
    `${first}:${data}/docs`,
    `latest:${data}/docs`,
    '--json',
  ]);
  expect(run.stderr).toBe('');
  expect(lines(run.stdout).map((line) => JSON.parse(line))).toEqual([
    { path: '/new.md', change: 'added', type: 'file' },
    { path: '/old.txt', change: 'removed', type: 'file' },
  ]);
});

test('diff refuses bad arguments and names unknown snapshots and paths', async () => {
  const cases: [string[], number, RegExp][] = [
    [['diff', 'latest'], 2, /^error: missing required argument 'to' — see 'kloud diff --help'\n$/],
    [['diff', 'latest', 'latest:docs'], 2, /^error: the path in "latest:docs" is not absolute — /],
    [['diff', 'deadbeef', 'latest'], 1, / — list the snapshots with: kloud ls\n$/],
    [['diff', `latest:${data}/nope`, 'latest'], 1, / — list the snapshot with: kloud ls SNAPSHOT:\/PATH\n$/],
  ];
  for (const [args, code, message] of cases) {
    const run = await sandbox.run(['at', store, ...args]);
    expect([args, run.code, run.stderr, run.stdout]).toEqual([
      args,
      code,
      expect.stringMatching(message),
      '',
    ]);
  }
});

test('find matches names without / and whole paths with /, newest snapshot first', async () => {
  const names = await sandbox.ok(['at', store, 'find', '*.md']);
  const when = '\\d{4}-\\d\\d-\\d\\d \\d\\d:\\d\\d:\\d\\d';
  expect(lines(names.stdout)).toEqual([
    expect.stringMatching(new RegExp(`^${short(second)}  ${when}  ${data}/docs/new\\.md$`)),
    expect.stringMatching(new RegExp(`^${short(second)}  ${when}  ${data}/docs/report\\.md$`)),
    expect.stringMatching(new RegExp(`^${short(first)}  ${when}  ${data}/docs/report\\.md$`)),
  ]);
  expect(names.stderr).toBe('');

  const dirs = await sandbox.ok(['at', store, 'find', 'docs', '--tag', 'first']);
  expect(dirs.stdout).toMatch(new RegExp(`^${short(first)}  ${when}  ${data}/docs/\\n$`));
  expect((await sandbox.ok(['at', store, 'find', 'nothing-like-this'])).stdout).toBe('');
});

test('locate is find; --json gives NDJSON { snapshot, path, type, size, mtime }', async () => {
  const run = await sandbox.ok(['at', store, 'locate', `${data}/docs/*`, '--tag', 'first', '--json']);
  const mtime = expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
  expect(lines(run.stdout).map((line) => JSON.parse(line))).toEqual([
    { snapshot: first, path: `${data}/docs/old.txt`, type: 'file', size: 3, mtime },
    { snapshot: first, path: `${data}/docs/report.md`, type: 'file', size: 9, mtime },
  ]);
  const empty = await sandbox.run(['at', store, 'find', '']);
  expect([empty.code, empty.stderr]).toEqual([
    2,
    "error: empty pattern — give a glob, e.g. kloud find '*.conf'\n",
  ]);
});
