import { spawn } from 'node:child_process';
import { chmod, mkdir, readFile, readlink, stat, symlink, writeFile } from 'node:fs/promises';
import { KLOUD, Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let store: string;
let data: string;
beforeEach(async () => {
  sandbox = await Sandbox.create();
  store = sandbox.path('store');
  data = await sandbox.writeTree('data', {
    'notes.txt': 'first notes\n',
    'docs/report.md': '# report\n'.repeat(50),
    'docs/draft.tmp': 'scratch',
    'cache/blob.bin': 'cached',
  });
  await symlink('notes.txt', sandbox.path('data/latest-notes'));
  await sandbox.ok(['at', store, 'create', '--plaintext']);
});
afterEach(() => sandbox.dispose());

const lines = (text: string) => text.trim().split('\n');

test('backup, ls, cat and restore a snapshot of several places', async () => {
  const other = await sandbox.writeTree('other', { 'x.txt': 'x' });
  const backup = await sandbox.ok([
    'at',
    store,
    'backup',
    data,
    other,
    '--tag',
    'daily',
    '--tag',
    'cli',
    '--json',
  ]);
  expect(backup.stderr).toBe('');
  const result = JSON.parse(backup.stdout);
  expect(result).toMatchObject({ dryRun: false, sources: [data, other], errors: [], summary: { files: 5 } });

  const snapshots = lines((await sandbox.ok(['at', store, 'ls', '--json'])).stdout).map((l) => JSON.parse(l));
  expect(snapshots).toHaveLength(1);
  expect(snapshots[0]).toMatchObject({ id: result.snapshot, tags: ['cli', 'daily'], sources: [data, other] });
  const human = await sandbox.ok(['at', store, 'ls']);
  expect(human.stdout).toMatch(
    new RegExp(`^${result.snapshot.slice(0, 8)}  .*  ${data} ${other}  \\[cli,daily\\]\\n$`),
  );

  const entries = await sandbox.ok(['at', store, 'ls', `latest:${data}`]);
  expect(lines(entries.stdout).map((l) => l.split('  ').pop())).toEqual([
    `${data}/cache`,
    `${data}/docs`,
    `${data}/latest-notes -> notes.txt`,
    `${data}/notes.txt`,
  ]);
  expect(entries.stdout).toMatch(/^drwx/);

  const cat = await sandbox.ok([
    'at',
    store,
    'cat',
    `${result.snapshot.slice(0, 10)}:${data}/docs/report.md`,
  ]);
  expect(cat.stdout).toBe('# report\n'.repeat(50));

  const out = sandbox.path('restored');
  const restore = await sandbox.ok(['at', store, 'restore', '--to', out]);
  expect(restore.stdout).toMatch(/^restored 5 files, .* into .*restored\n$/);
  expect(await readFile(`${out}${data}/docs/report.md`, 'utf8')).toBe('# report\n'.repeat(50));
  expect(await readFile(`${out}${other}/x.txt`, 'utf8')).toBe('x');
  expect(await readlink(`${out}${data}/latest-notes`)).toBe('notes.txt');
});

test('--json output of ls entries and cat is NDJSON and nothing else', async () => {
  await sandbox.ok(['at', store, 'backup', data]);
  const ls = await sandbox.ok(['--json', 'at', store, 'ls', `latest:${data}/docs`]);
  expect(lines(ls.stdout).map((l) => JSON.parse(l))).toEqual([
    expect.objectContaining({ path: `${data}/docs/draft.tmp`, type: 'file', size: 7 }),
    expect.objectContaining({ path: `${data}/docs/report.md`, type: 'file', size: 450 }),
  ]);
  const cat = await sandbox.ok(['at', store, 'cat', `latest:${data}/notes.txt`, '--json']);
  const chunks = lines(cat.stdout).map((l) => JSON.parse(l));
  expect(chunks).toEqual([
    { path: `${data}/notes.txt`, offset: 0, base64: Buffer.from('first notes\n').toString('base64') },
  ]);
});

test('backup without a place backs up the current directory; --exclude and --tag apply', async () => {
  await sandbox.ok(
    ['at', store, 'backup', '--exclude', '*.tmp', '--exclude', `${data}/cache`, '--tag', 'x'],
    {
      cwd: data,
    },
  );
  const ls = await sandbox.ok(['at', store, 'ls', '--tag', 'x', '--json']);
  expect(JSON.parse(ls.stdout).sources).toEqual([data]);
  const top = (await sandbox.ok(['at', store, 'ls', `latest:${data}`])).stdout;
  expect(top).not.toContain('cache');
  expect((await sandbox.ok(['at', store, 'ls', `latest:${data}/docs`])).stdout).not.toContain('draft.tmp');
  expect((await sandbox.ok(['at', store, 'ls', '--tag', 'nope'])).stdout).toBe('');
});

test('backup --dry-run reports but writes no snapshot', async () => {
  const dry = await sandbox.ok(['at', store, 'backup', data, '--dry-run']);
  expect(dry.stdout).toMatch(/^dry run: 4 files, .*; nothing was written\n$/);
  expect((await sandbox.ok(['at', store, 'ls'])).stdout).toBe('');
});

test('restore of one path, and --overwrite deciding about existing files', async () => {
  await sandbox.ok(['at', store, 'backup', data]);
  const out = sandbox.path('out');
  await sandbox.ok(['at', store, 'restore', `latest:${data}/docs`, '--to', out]);
  expect(await readFile(`${out}/docs/draft.tmp`, 'utf8')).toBe('scratch');

  await writeFile(`${out}/docs/draft.tmp`, 'changed');
  const kept = await sandbox.ok(['at', store, 'restore', `latest:${data}/docs`, '--to', out, '--json']);
  expect(JSON.parse(kept.stdout)).toMatchObject({ skipped: 2, path: `${data}/docs`, to: out });
  expect(await readFile(`${out}/docs/draft.tmp`, 'utf8')).toBe('changed');
  await sandbox.ok(['at', store, 'restore', `latest:${data}/docs`, '--to', out, '--overwrite', 'always']);
  expect(await readFile(`${out}/docs/draft.tmp`, 'utf8')).toBe('scratch');
});

test('unknown snapshots and paths give their own errors', async () => {
  await sandbox.ok(['at', store, 'backup', data]);
  const cases: [string[], number, RegExp][] = [
    [['ls', 'deadbeef'], 1, / — list the snapshots with: kloud ls\n$/],
    [['ls', `latest:${data}/missing`], 1, / — list the snapshot with: kloud ls SNAPSHOT:\/PATH\n$/],
    [['ls', 'latest:relative/path'], 2, /^error: the path in "latest:relative\/path" is not absolute — /],
    [['cat', 'latest'], 2, /^error: no file in "latest" — write SNAPSHOT:PATH/],
    [['restore', 'latest'], 2, /^error: no destination given — add --to DIR/],
    [
      ['restore', '--to', 'sftp://127.0.0.1:1/tmp'],
      1,
      /^error: no credentials for sftp:\/\/127\.0\.0\.1:1\/tmp/,
    ],
    [['restore', '--overwrite', 'maybe', '--to', '/tmp'], 2, /argument 'maybe' is invalid/],
  ];
  for (const [args, code, message] of cases) {
    const run = await sandbox.run(['at', store, ...args]);
    expect([args, run.code, run.stderr]).toEqual([args, code, expect.stringMatching(message)]);
  }
});

test('a backup that cannot read some files saves the rest and exits 3', async () => {
  const unreadable = sandbox.path('data/secret.txt');
  await writeFile(unreadable, 'hidden');
  await chmod(unreadable, 0o000);
  // root reads everything: run the CLI as an unprivileged user, in a sandbox it can use
  const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
  await chmod(sandbox.root, 0o755);
  for (const dir of ['', 'home', 'work', 'store', 'data', 'data/docs', 'data/cache']) {
    await chmod(sandbox.path(dir), 0o777);
  }
  await chmodTree(store);
  const run = await sandbox.run(['at', store, 'backup', data], asUser);
  expect(run.code).toBe(3);
  expect(run.stderr).toBe(`warning: could not read ${unreadable}: permission denied\n`);
  expect(run.stdout).toMatch(/^snapshot [0-9a-f]{8} saved: .*\n1 file could not be read/);
  expect((await sandbox.ok(['at', store, 'cat', `latest:${data}/notes.txt`])).stdout).toBe('first notes\n');
});

async function chmodTree(dir: string): Promise<void> {
  const { readdir } = await import('node:fs/promises');
  for (const entry of await readdir(dir, { recursive: true, withFileTypes: true })) {
    const path = `${entry.parentPath}/${entry.name}`;
    await chmod(path, entry.isDirectory() ? 0o777 : 0o666);
  }
}

test('stores, sources and destinations resolve @alias, @alias:relative and @alias:/absolute', async () => {
  const stores = sandbox.path('stores');
  await mkdir(stores);
  await sandbox.ok(['store', 'add', 'vault', stores]);
  await sandbox.ok(['at', '@vault:one', 'create', '--plaintext']);
  await sandbox.ok(['at', `@vault:${sandbox.path('two')}`, 'create', '--plaintext']);
  expect((await stat(`${stores}/one`)).isDirectory()).toBe(true);
  expect((await stat(sandbox.path('two'))).isDirectory()).toBe(true);

  const other = await sandbox.writeTree('other', { 'x.txt': 'x' });
  await sandbox.ok(['source', 'add', 'src', data]);
  const backup = await sandbox.ok(['at', '@vault:one', 'backup', '@src:docs', `@src:${other}`, '--json']);
  expect(JSON.parse(backup.stdout).sources).toEqual([`${data}/docs`, other]);
  await sandbox.ok(['at', '@vault:one', 'backup', '@src']);
  expect(
    JSON.parse(lines((await sandbox.ok(['at', '@vault:one', 'ls', '--json'])).stdout)[0]).sources,
  ).toEqual([data]);

  await sandbox.ok(['destination', 'add', 'out', sandbox.path('out')]);
  await sandbox.ok(['at', '@vault:one', 'restore', `latest:${data}/notes.txt`, '--to', '@out:rel']);
  await sandbox.ok([
    'at',
    '@vault:one',
    'restore',
    `latest:${data}/notes.txt`,
    '--to',
    `@out:${sandbox.path('abs')}`,
  ]);
  expect(await readFile(sandbox.path('out/rel/notes.txt'), 'utf8')).toBe('first notes\n');
  expect(await readFile(sandbox.path('abs/notes.txt'), 'utf8')).toBe('first notes\n');
});

test('remote aliases resolve to their locations, which their connectors then try', async () => {
  // port 1 refuses connections; without credentials the SFTP connector stops before connecting
  await sandbox.ok(['store', 'add', 'remote', 'sftp://127.0.0.1:1/tmp']);
  await sandbox.ok(['source', 'add', 'remote', 'sftp://127.0.0.1:1/tmp']);
  const s3 = ['endpoint=http://127.0.0.1:1', 'force_path_style=true', 'access_key=a', 'secret_access_key=b'];
  await sandbox.ok(['destination', 'add', 'bucket', 's3://my-bucket/restores', ...s3]);
  await sandbox.ok(['at', store, 'backup', data]);
  const cases: [string[], string][] = [
    [['at', '@remote:etc', 'info'], 'error: no credentials for sftp://127.0.0.1:1/tmp/etc: give identity='],
    [['at', '@remote:/etc', 'info'], 'error: no credentials for sftp://127.0.0.1:1/etc: give identity='],
    [['at', store, 'backup', '@remote:etc'], 'error: no credentials for sftp://127.0.0.1:1: give identity='],
    [
      ['at', store, 'restore', '--to', '@bucket:day1'],
      'error: cannot reach http://127.0.0.1:1 (ECONNREFUSED)',
    ],
  ];
  for (const [args, message] of cases) {
    const run = await sandbox.run(args);
    expect([args, run.code, run.stderr.slice(0, message.length)]).toEqual([args, 1, message]);
  }
  const unknown = await sandbox.run(['at', '@nope', 'ls']);
  expect(unknown.code).toBe(1);
  expect(unknown.stderr).toMatch(/^error: unknown store alias "nope" — known stores: remote/);
});

test('without at: KLOUD_REPOSITORY, else the default store alias, else ~/.kloud', async () => {
  await sandbox.ok(['create', '--plaintext']);
  expect((await stat(`${sandbox.home}/.kloud`)).isDirectory()).toBe(true);

  await sandbox.ok(['store', 'add', 'main', store]);
  await sandbox.ok(['store', 'default', 'main']);
  await sandbox.ok(['backup', data]);
  expect(lines((await sandbox.ok(['at', store, 'ls'])).stdout)).toHaveLength(1);

  await sandbox.ok(['backup', data], { env: { KLOUD_REPOSITORY: `${sandbox.home}/.kloud` } });
  expect(lines((await sandbox.ok(['at', `${sandbox.home}/.kloud`, 'ls'])).stdout)).toHaveLength(1);
  expect(lines((await sandbox.ok(['ls'])).stdout)).toHaveLength(1);
});

test('cat into a reader that stops early ends quietly', async () => {
  const big = await sandbox.writeTree('big', { 'file.bin': 'z'.repeat(2 << 20) });
  await sandbox.ok(['at', store, 'backup', big]);
  const child = spawn(process.execPath, [KLOUD, 'at', store, 'cat', `latest:${big}/file.bin`], {
    env: sandbox.env(),
    cwd: sandbox.work,
  });
  let stderr = '';
  child.stderr.on('data', (chunk: Buffer) => (stderr += chunk.toString()));
  child.stdout.once('data', () => child.stdout.destroy());
  const code = await new Promise((resolve) => child.on('close', resolve));
  expect([code, stderr]).toEqual([0, '']);
});
