/**
 * The CLI in a real pseudo-terminal (util-linux `script`): the passphrase prompt and the progress
 * display only exist there.
 */
import { spawn } from 'node:child_process';
import { stat } from 'node:fs/promises';
import { KLOUD, Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

interface Screen {
  code: number | null;
  /** Everything the terminal showed, stdout and stderr together. */
  text: string;
}

/** Runs kloud in a terminal, typing each answer once its prompt has appeared. */
function inTerminal(
  args: string[],
  answers: [string, string][],
  env: Record<string, string> = {},
): Promise<Screen> {
  const quote = (word: string) => `'${word.replace(/'/g, `'\\''`)}'`;
  const command = ['exec', process.execPath, KLOUD, ...args].map(quote).join(' ');
  return new Promise((resolve, reject) => {
    const child = spawn('script', ['-q', '-e', '-c', command, '/dev/null'], {
      cwd: sandbox.work,
      env: sandbox.env({ ...env, SHELL: '/bin/sh', TERM: 'xterm' }),
    });
    let text = '';
    let seen = 0;
    child.stdout.on('data', (chunk: Buffer) => {
      text += chunk.toString();
      const next = answers[0];
      const at = next ? text.indexOf(next[0], seen) : -1;
      if (next && at >= 0) {
        seen = at + next[0].length;
        answers.shift();
        child.stdin.write(next[1]);
      }
    });
    // a prompt that never comes fails the test in seconds, not at jest's timeout
    const deadline = setTimeout(() => child.kill(), 20_000);
    child.on('error', reject);
    child.on('close', (code) => {
      clearTimeout(deadline);
      resolve({ code, text });
    });
  });
}

test('create asks for the passphrase twice without echoing it; later commands ask once', async () => {
  const store = sandbox.path('store');
  const create = await inTerminal(
    ['at', store, 'create'],
    [
      [`Passphrase for ${store}: `, 'typed secret\r'],
      ['Repeat passphrase: ', 'typed secret\r'],
    ],
  );
  expect(create.code).toBe(0);
  expect(create.text).toMatch(/created store .*store \(id [0-9a-f]{8}, aes-256-gcm, zstd\)/);
  expect(create.text).not.toContain('typed secret');

  const ls = await inTerminal(['at', store, 'info'], [[`Passphrase for ${store}: `, 'typed secret\r']]);
  expect(ls.code).toBe(0);
  expect(ls.text).toMatch(/key slots: +1/);
  await sandbox.ok(['at', store, 'info'], { env: { KLOUD_PASSPHRASE: 'typed secret' } });
});

test('two different answers on create create nothing', async () => {
  const store = sandbox.path('store');
  const create = await inTerminal(
    ['at', store, 'create'],
    [
      ['Passphrase for', 'one\r'],
      ['Repeat passphrase: ', 'two\r'],
    ],
  );
  expect(create.code).toBe(1);
  expect(create.text).toContain('error: the passphrases do not match — run the command again');
  await expect(stat(store)).rejects.toMatchObject({ code: 'ENOENT' });
});

test('a source found before the prompt wins: no question is asked', async () => {
  const store = sandbox.path('store');
  const create = await inTerminal(['at', store, 'create'], [], { KLOUD_PASSPHRASE: 'from env' });
  expect(create.code).toBe(0);
  expect(create.text).not.toContain('Passphrase');
});

test('create where a store or other data is fails before the prompt', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const occupied = await sandbox.writeTree('occupied', { 'photo.jpg': 'jpeg' });
  for (const [location, message] of [
    [store, `error: a store already exists at ${store} — `],
    [occupied, `error: ${occupied} is not empty and is not a store — choose a new or empty directory`],
  ]) {
    const create = await inTerminal(['at', location, 'create'], []);
    expect([create.code, create.text]).toEqual([1, expect.stringContaining(message)]);
    expect(create.text).not.toContain('Passphrase');
  }
});

test('progress is drawn on a terminal', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const data = await sandbox.writeTree('data', { 'big.bin': 'x'.repeat(4 << 20), 'small.txt': 'y' });
  const backup = await inTerminal(['at', store, 'backup', data], []);
  expect(backup.code).toBe(0);
  expect(backup.text).toMatch(/backup \| \d+ files? \| /);
  expect(backup.text).toMatch(/snapshot [0-9a-f]{8} saved: 2 files/);
});

test('repair shows its progress on a terminal', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.ok(['at', store, 'backup', await sandbox.writeTree('data', { 'a.txt': 'a' })]);
  const repair = await inTerminal(['at', store, 'repair'], []);
  expect(repair.code).toBe(0);
  expect(repair.text).toMatch(/repair \| /);
  expect(repair.text).toMatch(/nothing to repair: no problems found/);
});
