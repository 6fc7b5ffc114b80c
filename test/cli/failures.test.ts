/** How failures reach the user: system errors on their paths, restores into the store, and `--json` error documents. */
import { chmod, mkdir, readdir, writeFile } from 'node:fs/promises';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

const UNEXPECTED = /unexpected|report the output/;

describe('system errors on a path the user gave are user errors naming the path', () => {
  test('a name too long', async () => {
    const long = sandbox.path('x'.repeat(300), 'store');
    const create = await sandbox.run(['at', long, 'create', '--plaintext']);
    expect([create.code, create.stderr]).toEqual([
      1,
      `error: ${long}: the name is too long — use a shorter path (file systems allow 255 bytes per name)\n`,
    ]);

    const store = sandbox.path('store');
    await sandbox.ok(['at', store, 'create', '--plaintext']);
    await sandbox.ok(['at', store, 'backup', await sandbox.writeTree('data', { 'a.txt': 'a\n' })]);
    const restore = await sandbox.run(['at', store, 'restore', '--to', long]);
    expect(restore.code).toBe(1);
    expect(restore.stderr).toMatch(/: the name is too long — use a shorter path/);
    expect(restore.stderr).not.toMatch(UNEXPECTED);
  });

  test('permission denied', async () => {
    // root may write anywhere: run the CLI as an unprivileged user, in a sandbox it can use
    const asUser = process.getuid?.() === 0 ? { uid: 65534, gid: 65534 } : {};
    await chmod(sandbox.root, 0o755);
    for (const dir of ['home', 'work']) await chmod(sandbox.path(dir), 0o777);
    const locked = sandbox.path('locked');
    await mkdir(locked, { mode: 0o555 });
    await chmod(locked, 0o555);
    const run = await sandbox.run(['at', `${locked}/store`, 'create', '--plaintext'], asUser);
    expect([run.code, run.stderr]).toEqual([
      1,
      `error: ${locked}/store: permission denied — check its permissions, or run as a user allowed to use it\n`,
    ]);

    // a store that can be read but not written
    const store = sandbox.path('read-only-store');
    await sandbox.ok(['at', store, 'create', '--plaintext']);
    const data = await sandbox.writeTree('data', { 'a.txt': 'a\n' });
    await chmod(data, 0o755);
    await chmodTree(store, 0o555, 0o444);
    // writable again afterwards, so that the sandbox can be removed by a user who is not root
    const backup = await sandbox
      .run(['at', store, 'backup', data], asUser)
      .finally(() => chmodTree(store, 0o755, 0o644));
    expect([backup.code, backup.stderr]).toEqual([
      1,
      `error: writing to ${store} failed: permission denied; nothing was committed, the store is unchanged — check its permissions, or run as a user allowed to use it\n`,
    ]);
  });
});

describe('restore refuses a target inside the local store it reads', () => {
  let store: string;
  beforeEach(async () => {
    store = sandbox.path('backups');
    await sandbox.ok(['at', store, 'create', '--plaintext']);
    await sandbox.ok(['at', store, 'backup', await sandbox.writeTree('data', { 'a.txt': 'a\n' })]);
  });

  test('given as a path, the store root, or through aliases', async () => {
    await sandbox.ok(['store', 'add', 'home', store]);
    await sandbox.ok(['destination', 'add', 'inside', `${store}/restored`]);
    for (const [at, to] of [
      [store, `${store}/restored`],
      [store, store],
      ['@home', `${store}/packs`],
      ['@home', '@inside'],
      ['@home', '@inside:deeper'],
    ]) {
      const run = await sandbox.run(['at', at, 'restore', '--to', to]);
      expect([at, to, run.code]).toEqual([at, to, 2]);
      expect(run.stderr).toMatch(
        new RegExp(
          `^error: cannot restore into ${store}.*: it is inside the store being read \\(${store}\\); choose a directory outside it — `,
        ),
      );
    }
  });

  test('a directory beside the store is fine', async () => {
    const run = await sandbox.ok(['at', store, 'restore', '--to', `${store}-restored`]);
    expect(run.stdout).toMatch(/^restored 1 file, /);
  });
});

test('with --json every failure is an error document on stdout, with the same exit code', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: { KLOUD_PASSPHRASE: 'right' } });
  await writeFile(sandbox.path('wrong.txt'), 'wrong');
  await writeFile(sandbox.path('right.txt'), 'right');
  const cases: [string[], string][] = [
    [['bogus'], 'USAGE'],
    [['store'], 'USAGE'],
    [['ls', '--no-such-option'], 'USAGE'],
    [['at', sandbox.path('nowhere'), 'ls'], 'STORE_NOT_FOUND'],
    [['at', store, 'ls', '--passphrase-file', sandbox.path('wrong.txt')], 'WRONG_PASSPHRASE'],
    [['at', sandbox.path('n'.repeat(300)), 'create', '--plaintext'], 'ENAMETOOLONG'],
    [['store', 'add', 'x', '/srv/x', 'region=eu-west-1'], 'USAGE'],
    [
      ['at', store, 'ls', 'nosuchsnapshot', '--passphrase-file', sandbox.path('right.txt')],
      'SNAPSHOT_NOT_FOUND',
    ],
    [['store', 'rm', 'nope'], 'FAILED'],
  ];
  for (const [args, code] of cases) {
    const text = await sandbox.run(args);
    const json = await sandbox.run(['--json', ...args]);
    expect([args, json.code]).toEqual([args, text.code]);
    expect(text.code).not.toBe(0);
    expect(text.stdout).toBe('');
    const document = JSON.parse(json.stdout);
    expect([args, Object.keys(document)]).toEqual([args, ['error']]);
    expect(document.error).toEqual({
      code,
      message: expect.any(String),
      advice: expect.any(String),
    });
    // the same words as the line on stderr (a group without its command prints its help instead)
    if (args.join(' ') !== 'store')
      expect(json.stderr).toBe(`error: ${document.error.message} — ${document.error.advice}\n`);
  }
});

async function chmodTree(root: string, dirMode: number, fileMode: number): Promise<void> {
  for (const entry of await readdir(root, { recursive: true, withFileTypes: true }))
    await chmod(`${entry.parentPath}/${entry.name}`, entry.isDirectory() ? dirMode : fileMode);
  await chmod(root, dirMode);
}
