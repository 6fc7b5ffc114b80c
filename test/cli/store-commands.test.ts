import { mkdir, readdir, readFile, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

const secret = { KLOUD_PASSPHRASE: 'correct horse' };

async function filesUnder(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { recursive: true, withFileTypes: true });
  return entries.filter((e) => e.isFile()).map((e) => join(e.parentPath, e.name));
}

test('create makes an encrypted store that info describes', async () => {
  const store = sandbox.path('store');
  const created = await sandbox.ok(['at', store, 'create', '--json'], { env: secret });
  expect(JSON.parse(created.stdout)).toMatchObject({
    location: store,
    encryption: 'aes-256-gcm',
    compression: 'zstd',
  });
  expect((await stat(store)).isDirectory()).toBe(true);
  const info = JSON.parse((await sandbox.ok(['at', store, 'info', '--json'], { env: secret })).stdout);
  expect(info).toMatchObject({ location: store, encryption: 'aes-256-gcm', keySlots: 1, snapshots: 0 });
  const text = await sandbox.ok(['at', store, 'info'], { env: secret });
  expect(text.stdout).toMatch(/^location: +.*store\n/);
  expect(text.stdout).toMatch(/\nencryption: +aes-256-gcm \(scrypt/);
});

test('create --plaintext needs no passphrase anywhere', async () => {
  const store = sandbox.path('plain');
  const created = await sandbox.ok(['at', store, 'create', '--plaintext', '--compression', 'none']);
  expect(created.stdout).toMatch(/^created store .*plain \(id [0-9a-f]{8}, none, none\)\n$/);
  expect(created.stderr).toBe('note: this store is not encrypted\n');
  expect(JSON.parse((await sandbox.ok(['at', store, 'info', '--json'])).stdout).encryption).toBe('none');
});

test('create refuses an existing store before asking anything, and changes nothing', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const before = await filesUnder(store);
  const again = await sandbox.run(['at', store, 'create']);
  expect(again.code).toBe(1);
  expect(again.stderr).toBe(
    `error: a store already exists at ${store} — use it (kloud at ${store} info), or choose a new directory\n`,
  );
  expect(await filesUnder(store)).toEqual(before);
});

test('a location that is a file is refused with its own message', async () => {
  const file = sandbox.path('not-a-dir');
  await writeFile(file, 'data');
  const create = await sandbox.run(['at', file, 'create'], { env: secret });
  expect(create.code).toBe(1);
  expect(create.stderr).toBe(`error: ${file} is a file, not a directory — choose a new or empty directory\n`);
  const ls = await sandbox.run(['at', file, 'ls']);
  expect(ls.code).toBe(1);
  expect(ls.stderr).toBe(`error: ${file} is a file, not a store directory — check the location\n`);
  expect(await readFile(file, 'utf8')).toBe('data');
});

test('create refuses a directory holding other things at once, without a passphrase; an empty one is fine', async () => {
  const dir = await sandbox.writeTree('occupied', { 'photo.jpg': 'jpeg' });
  // no passphrase anywhere (no KLOUD_PASSPHRASE, stdin no terminal): had create sought one before
  // looking at the directory, it would have failed for the want of it; it answers about the directory
  const create = await sandbox.run(['at', dir, 'create']);
  expect(create.code).toBe(1);
  expect(create.stderr).toBe(
    `error: ${dir} is not empty and is not a store — choose a new or empty directory\n`,
  );
  expect(await readdir(dir)).toEqual(['photo.jpg']);
  const empty = sandbox.path('empty');
  await mkdir(empty);
  await sandbox.ok(['at', empty, 'create', '--plaintext']);
});

test('a missing store says how to create it', async () => {
  const run = await sandbox.run(['at', sandbox.path('nowhere'), 'info']);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    `error: no store at ${sandbox.path('nowhere')} — create one with: kloud at ${sandbox.path('nowhere')} create\n`,
  );
});

test('without a passphrase and without a terminal, commands fail at once', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: secret });
  // the answer is the want of a passphrase, not a prompt waiting on stdin (which is no terminal)
  const run = await sandbox.run(['at', store, 'ls']);
  expect(run.code).toBe(1);
  expect(run.stderr).toBe(
    `error: no passphrase for ${store} — use --passphrase-file FILE, set KLOUD_PASSPHRASE, or run the command in a terminal\n`,
  );
  const create = await sandbox.run(['at', sandbox.path('other'), 'create']);
  expect(create.code).toBe(1);
  expect(create.stderr).toMatch(/^error: no passphrase for .*other — /);
});

test('a wrong passphrase is named by where it came from', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: secret });
  const env = await sandbox.run(['at', store, 'ls'], { env: { PLAKAR_PASSPHRASE: 'nope' } });
  expect(env.code).toBe(1);
  expect(env.stderr).toMatch(
    new RegExp(`^error: wrong passphrase for ${store} \\(from \\$PLAKAR_PASSPHRASE\\) — `),
  );
  await sandbox.ok(['store', 'add', 'home', store, 'passphrase=nope']);
  const alias = await sandbox.run(['at', '@home', 'ls'], { env: secret });
  expect(alias.stderr).toMatch(
    /^error: wrong passphrase for @home \(.*store\) \(from the alias passphrase\) — /,
  );
});

test('the alias passphrase_cmd and --passphrase-file open the store', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: secret });
  await writeFile(sandbox.path('pass.txt'), 'correct horse\n');
  await sandbox.ok(['store', 'add', 'home', store, `passphrase_cmd=cat ${sandbox.path('pass.txt')}`]);
  await sandbox.ok(['at', '@home', 'ls']);
  await sandbox.ok(['--passphrase-file', sandbox.path('pass.txt'), 'at', store, 'ls']);
  await sandbox.ok(['at', store, 'ls', '--passphrase-file', '../pass.txt']);
});

test('passwd replaces the passphrase; the old one stops working', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: secret });
  await writeFile(sandbox.path('new.txt'), 'battery staple\n');
  const passwd = await sandbox.ok(['at', store, 'passwd', '--new-passphrase-file', sandbox.path('new.txt')], {
    env: secret,
  });
  expect(passwd.stdout).toMatch(/^passphrase changed \(key slot [0-9a-f]{8}\)\n$/);
  expect((await sandbox.run(['at', store, 'ls'], { env: secret })).code).toBe(1);
  await sandbox.ok(['at', store, 'ls'], { env: { KLOUD_PASSPHRASE: 'battery staple' } });
  const noNew = await sandbox.run(['at', store, 'passwd'], { env: { KLOUD_PASSPHRASE: 'battery staple' } });
  expect(noNew.code).toBe(1);
  expect(noNew.stderr).toMatch(/^error: no new passphrase for .* — use --new-passphrase-file FILE/);
});

test('key add, ls and rm manage several passphrases, never removing the last', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create'], { env: secret });
  await writeFile(sandbox.path('second.txt'), 'second');
  const add = ['at', store, 'key', 'add', '--new-passphrase-file', sandbox.path('second.txt'), '--json'];
  const added = JSON.parse((await sandbox.ok(add, { env: secret })).stdout).keySlot as string;
  const slots = (await sandbox.ok(['at', store, 'key', 'ls', '--json'], { env: secret })).stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; current: boolean });
  expect(slots).toHaveLength(2);
  // the slot that opened the store is marked: the first passphrase's, not the one just added
  expect(slots.map((slot) => [slot.id === added, slot.current])).toEqual(
    expect.arrayContaining([
      [true, false],
      [false, true],
    ]),
  );
  const text = (await sandbox.ok(['at', store, 'key', 'ls'], { env: { KLOUD_PASSPHRASE: 'second' } })).stdout;
  expect(text.split('\n').filter((line) => line.startsWith('* '))).toEqual([
    expect.stringMatching(new RegExp(`^\\* ${added.slice(0, 8)}  `)),
  ]);
  expect(text).toMatch(/^ {2}[0-9a-f]{8} {2}/m);

  await sandbox.ok(['at', store, 'key', 'rm', added.slice(0, 12)], { env: secret });
  expect((await sandbox.run(['at', store, 'ls'], { env: { KLOUD_PASSPHRASE: 'second' } })).code).toBe(1);
  const [last] = (await sandbox.ok(['at', store, 'key', 'ls', '--json'], { env: secret })).stdout
    .trim()
    .split('\n');
  const refused = await sandbox.run(['at', store, 'key', 'rm', JSON.parse(last).id], { env: secret });
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /^error: this is the only key slot.* — add another passphrase first: kloud key add\n$/,
  );
});

test('check passes on a sound store and exits 4 on a damaged one', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.writeTree('data', { 'a.txt': 'alpha '.repeat(100), 'b/c.txt': 'gamma' });
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  const sound = await sandbox.ok(['at', store, 'check', '--read-data']);
  expect(sound.stdout).toMatch(/^checked 1 snapshot, 2 packs, .*\nno problems found\n$/);

  for (const pack of (await filesUnder(store)).filter((f) => f.includes('/packs/'))) {
    const bytes = await readFile(pack);
    bytes[Math.floor(bytes.length / 2)] ^= 0xff;
    await writeFile(pack, bytes);
  }
  const damaged = await sandbox.run(['at', store, 'check', '--read-data', '--json']);
  expect(damaged.code).toBe(4);
  const report = JSON.parse(damaged.stdout);
  expect(report.ok).toBe(false);
  expect(report.problems.length).toBeGreaterThan(0);
});

test('bad input to store commands is refused before anything is written', async () => {
  const store = sandbox.path('store');
  const cases: [string[], number, RegExp][] = [
    [['at', store, 'create', '--frob'], 2, /^error: unknown option '--frob' — see 'kloud create --help'\n$/],
    [['at', store, 'create', '--compression', 'lz9'], 2, /^error: option .* argument 'lz9' is invalid/],
    [['at', '@missing', 'create'], 1, /^error: unknown store alias "missing" — none is defined yet/],
    [['at', 'ftp://host/x', 'create'], 2, /^error: unsupported location scheme "ftp"/],
  ];
  for (const [args, code, message] of cases) {
    const run = await sandbox.run(args, { env: secret });
    expect([args, run.code, run.stderr]).toEqual([args, code, expect.stringMatching(message)]);
  }
  await expect(stat(store)).rejects.toMatchObject({ code: 'ENOENT' });
  expect(await readdir(sandbox.root)).toEqual(['home', 'work']);
});
