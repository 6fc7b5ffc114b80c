import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import {
  type PassphraseSources,
  resolveNewPassphrase,
  resolvePassphrase,
} from '../../../cli/passphrase/passphrase.js';
import { FakeTerminal } from '../fake-terminal.js';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-pass-'));
  await writeFile(join(dir, 'file'), 'from-file\n');
  await writeFile(join(dir, 'empty'), '');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

const request = { label: '/srv/store', confirm: false };

/** By default stdin is a pipe, not a terminal. */
function sources(overrides: Partial<PassphraseSources> = {}): PassphraseSources {
  const pipe = new FakeTerminal([], false);
  return { options: {}, env: {}, cwd: dir, stdin: pipe, stderr: pipe.screen, ...overrides };
}

const everything = {
  file: 'file',
  options: { passphrase: 'from-alias', passphrase_cmd: 'echo from-cmd' },
  env: { KLOUD_PASSPHRASE: 'from-kloud-env', PLAKAR_PASSPHRASE: 'from-plakar-env' },
};

test.each([
  ['--passphrase-file first', everything, 'from-file', 'the file file'],
  ['then the alias passphrase', { ...everything, file: undefined }, 'from-alias', 'the alias passphrase'],
  [
    'then passphrase_cmd',
    { ...everything, file: undefined, options: { passphrase_cmd: 'echo from-cmd' } },
    'from-cmd',
    'the alias passphrase_cmd',
  ],
  ['then KLOUD_PASSPHRASE', { env: everything.env }, 'from-kloud-env', '$KLOUD_PASSPHRASE'],
  ['then PLAKAR_PASSPHRASE', { env: { PLAKAR_PASSPHRASE: 'x' } }, 'x', '$PLAKAR_PASSPHRASE'],
])('%s', async (_name, given, value, source) => {
  await expect(resolvePassphrase(sources(given), request)).resolves.toEqual({ value, source });
});

test('passphrase_cmd runs without a shell: quotes group words, nothing is expanded', async () => {
  const options = { passphrase_cmd: `printf '%s|%s' "two words" $HOME` };
  await expect(resolvePassphrase(sources({ options }), request)).resolves.toMatchObject({
    value: 'two words|$HOME',
  });
});

test('then the terminal prompt, asked twice on create', async () => {
  const tty = new FakeTerminal([['typed\r'], ['typed\r']]);
  await expect(
    resolvePassphrase(sources({ stdin: tty, stderr: tty.screen }), { ...request, confirm: true }),
  ).resolves.toEqual({ value: 'typed', source: 'the prompt' });
  expect(tty.output).toBe('Passphrase for /srv/store: \nRepeat passphrase: \n');
});

test('two different answers on create are refused', async () => {
  const tty = new FakeTerminal([['one\r'], ['two\r']]);
  await expect(
    resolvePassphrase(sources({ stdin: tty, stderr: tty.screen }), { ...request, confirm: true }),
  ).rejects.toMatchObject({
    what: 'the passphrases do not match',
  });
});

test('a new passphrase comes from its own file, or is asked twice', async () => {
  const tty = new FakeTerminal([['fresh\r'], ['fresh\r']]);
  const terminal = { cwd: dir, stdin: tty, stderr: tty.screen };
  await expect(resolveNewPassphrase({ ...terminal, file: 'file' }, 'S')).resolves.toMatchObject({
    value: 'from-file',
  });
  await expect(resolveNewPassphrase(terminal, 'S')).resolves.toMatchObject({ value: 'fresh' });
  expect(tty.output).toBe('Passphrase for S (new): \nRepeat passphrase: \n');
  const pipe = new FakeTerminal([], false);
  await expect(
    resolveNewPassphrase({ cwd: dir, stdin: pipe, stderr: pipe.screen }, 'S'),
  ).rejects.toMatchObject({
    what: 'no new passphrase for S',
  });
});

test.each([
  ['no source and no terminal', {}, /^no passphrase for \/srv\/store$/],
  [
    'an unreadable file',
    { file: 'missing' },
    /cannot read passphrase file .*missing: no such file or directory/,
  ],
  ['an empty file', { file: 'empty' }, /empty passphrase from empty/],
  [
    'a failing command',
    { options: { passphrase_cmd: 'false' } },
    /passphrase_cmd "false" failed with exit code 1/,
  ],
  [
    'a missing program',
    { options: { passphrase_cmd: 'no-such-program-kloud' } },
    /could not start: no such file/,
  ],
])('%s fails at once with a clear message', async (_name, given, message) => {
  await expect(resolvePassphrase(sources(given), request)).rejects.toMatchObject({
    what: expect.stringMatching(message),
    exitCode: 1,
  });
});
