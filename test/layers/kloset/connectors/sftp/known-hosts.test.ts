import { execFile } from 'node:child_process';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import {
  fingerprint,
  keyTypeOf,
  knownHostsName,
  knownKeysFor,
} from '../../../../../layers/kloset/connectors/sftp/known-hosts.js';
import { removeTempDirs, tempDir } from '../../fixtures.js';

const run = promisify(execFile);
const ED25519 = 'AAAAC3NzaC1lZDI1NTE5AAAAIF6P3BBQXD5xHczCz20+piDe1B8Sfl1PtmpkMx3E6h9F';
const OTHER = 'AAAAC3NzaC1lZDI1NTE5AAAAIOmSDvnoBk0MvUhg2AbHPaXVBSYxa0zdRZ2lxh1NKJi1';

afterAll(removeTempDirs);

describe('known_hosts', () => {
  test('hosts are named as OpenSSH writes them: bare on port 22, [host]:port otherwise', () => {
    expect(knownHostsName('example.com', 22)).toBe('example.com');
    expect(knownHostsName('10.0.0.1', 2222)).toBe('[10.0.0.1]:2222');
  });

  test('patterns: lists, wildcards, negation, markers, comments', () => {
    const text = [
      '# a comment',
      '',
      `example.com,10.0.0.1 ssh-ed25519 ${ED25519} comment`,
      `*.example.org,!evil.example.org ssh-ed25519 ${OTHER}`,
      `[10.0.0.1]:2222 ssh-ed25519 ${OTHER}`,
      `@revoked example.com ssh-ed25519 ${OTHER}`,
      `@cert-authority *.example.com ssh-ed25519 ${OTHER}`,
    ].join('\n');
    expect(knownKeysFor(text, 'example.com').map((k) => [k.line, k.revoked])).toEqual([
      [3, false],
      [6, true],
    ]);
    expect(knownKeysFor(text, 'EXAMPLE.com')).toHaveLength(2);
    expect(knownKeysFor(text, 'www.example.org').map((k) => k.line)).toEqual([4]);
    expect(knownKeysFor(text, 'evil.example.org')).toEqual([]);
    expect(knownKeysFor(text, '[10.0.0.1]:2222').map((k) => k.line)).toEqual([5]);
    expect(knownKeysFor(text, 'other.example.com')).toEqual([]);
    const [key] = knownKeysFor(text, '10.0.0.1');
    expect(key!.type).toBe('ssh-ed25519');
    expect(keyTypeOf(key!.blob)).toBe('ssh-ed25519');
  });

  test('hashed names written by ssh-keygen -H match their host and no other', async () => {
    const file = join(await tempDir(), 'known_hosts');
    await writeFile(file, `[127.0.0.1]:2222 ssh-ed25519 ${ED25519}\nexample.com ssh-ed25519 ${OTHER}\n`);
    await run('/usr/bin/ssh-keygen', ['-H', '-f', file]);
    const text = await readFile(file, 'utf8');
    expect(text).not.toContain('example.com');
    expect(text).toMatch(/^\|1\|/);
    expect(knownKeysFor(text, '[127.0.0.1]:2222').map((k) => k.blob.toString('base64'))).toEqual([ED25519]);
    expect(knownKeysFor(text, 'example.com').map((k) => k.blob.toString('base64'))).toEqual([OTHER]);
    expect(knownKeysFor(text, '127.0.0.1')).toEqual([]);
  });

  test('fingerprints are the ones ssh-keygen -l prints', async () => {
    const file = join(await tempDir(), 'key.pub');
    await writeFile(file, `ssh-ed25519 ${ED25519} test\n`);
    const { stdout } = await run('/usr/bin/ssh-keygen', ['-l', '-f', file]);
    expect(stdout.split(' ')[1]).toBe(fingerprint(Buffer.from(ED25519, 'base64')));
  });
});
