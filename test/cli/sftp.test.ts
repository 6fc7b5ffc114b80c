/** SFTP stores, sources and destinations through the built CLI, against a real sshd on 127.0.0.1. */
import { mkdirSync, writeFileSync } from 'node:fs';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { sshdForTests } from '../layers/kloset/connectors/sftp/sshd-for-tests.js';
import { Sandbox } from './sandbox.js';

const sshd = sshdForTests();
let sandbox: Sandbox;
beforeAll(async () => {
  sandbox = await Sandbox.create();
});
afterAll(async () => {
  await sandbox?.dispose();
});

const secret = { KLOUD_PASSPHRASE: 'correct horse' };

/** The server's connector options as `key=value` arguments. */
const optionArgs = (extra: Record<string, string> = {}): string[] =>
  Object.entries({ ...sshd.server.options, ...extra }).map(([k, v]) => `${k}=${v}`);

test('an SFTP store, a local and an SFTP source in one snapshot, a restore into SFTP', async () => {
  const remoteStore = sandbox.path('remote/store');
  await sandbox.ok(['store', 'add', 'far', `${sshd.server.url}${remoteStore}`, ...optionArgs()]);
  await sandbox.ok(['at', '@far', 'create'], { env: secret });

  const local = await sandbox.writeTree('local', { 'notes.txt': 'local notes\n' });
  const served = await sandbox.writeTree('served', {
    'www/index.html': '<h1>web</h1>',
    'www/app.js': 'go()',
  });
  await sandbox.ok(['source', 'add', 'web', `${sshd.server.url}${served}`, ...optionArgs()]);
  const backup = await sandbox.ok(['at', '@far', 'backup', local, '@web:www', '--json'], { env: secret });
  const answer = JSON.parse(backup.stdout) as {
    snapshot: string;
    sources: string[];
    summary: { files: number };
  };
  expect(answer.sources).toEqual([local, `/sftp:127.0.0.1${served}/www`]);
  expect(answer.summary.files).toBe(3);

  const top = await sandbox.ok(['at', '@far', 'ls', `latest:/sftp:127.0.0.1${served}/www`], { env: secret });
  expect(top.stdout).toContain('index.html');

  const out = sandbox.path('remote/restored');
  await sandbox.ok(['destination', 'add', 'back', `${sshd.server.url}${out}`, ...optionArgs()]);
  const restored = await sandbox.ok(['at', '@far', 'restore', `latest:${local}`, '--to', '@back', '--json'], {
    env: secret,
  });
  expect(JSON.parse(restored.stdout)).toMatchObject({ files: 1, errors: [] });
  // the destination is this machine's disk, seen through sshd
  expect(await readFile(join(out, 'local/notes.txt'), 'utf8')).toBe('local notes\n');

  const check = await sandbox.ok(['at', '@far', 'check', '--read-data'], { env: secret });
  expect(check.stdout).toMatch(/no problems found/);
});

test('an unknown host key stops before any login, and the opt-out warns', async () => {
  const elsewhere = sandbox.path('no-such-known-hosts');
  const url = `${sshd.server.url}${sandbox.path('remote/other')}`;
  await sandbox.ok(['store', 'add', 'unknown', url, ...optionArgs({ known_hosts: elsewhere })]);
  const refused = await sandbox.run(['at', '@unknown', 'create', '--plaintext']);
  expect(refused.code).toBe(1);
  expect(refused.stderr).toMatch(
    /^error: \[127\.0\.0\.1\]:\d+ is not a known host: .* add it with: ssh-keyscan -p \d+ -t ed25519 127\.0\.0\.1 >> .* — or, where verifying is not possible, set insecure_ignore_host_key=true/,
  );

  await sandbox.ok(['store', 'set', 'unknown', 'insecure_ignore_host_key=true']);
  const insecure = await sandbox.ok(['at', '@unknown', 'create', '--plaintext']);
  expect(insecure.stderr).toMatch(/^warning: the host key of 127\.0\.0\.1 is not verified/m);
});

test('a name that is not UTF-8 on an SFTP source is reported, the rest backed up, exit 3', async () => {
  const served = sandbox.path('latin1');
  mkdirSync(served);
  writeFileSync(Buffer.from(`${served}/caf\xe9`, 'latin1'), 'x');
  writeFileSync(`${served}/ok`, 'y');
  const store = sandbox.path('names-store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.ok(['source', 'add', 'latin', `${sshd.server.url}${served}`, ...optionArgs()]);
  const run = await sandbox.run(['at', store, 'backup', '@latin']);
  expect(run.code).toBe(3);
  expect(run.stdout).toMatch(/: 1 file, /);
  expect(run.stderr).toContain(
    `warning: could not read /sftp:127.0.0.1${served}/caf\ufffd: a name that is not UTF-8`,
  );
});
