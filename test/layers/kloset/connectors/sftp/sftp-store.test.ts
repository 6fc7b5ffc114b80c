import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { appendFile, mkdir, readFile, readdir, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { SftpStore } from '../../../../../layers/kloset/connectors/sftp/sftp-store.js';
import {
  connectorWarning,
  createStore,
  openStore,
  probeLocation,
} from '../../../../../layers/kloset/index.js';
import {
  FAST_KDF,
  PASSPHRASE,
  failureOf as failure,
  listFiles,
  tempDir,
  treeDigest,
  writeTree,
} from '../../fixtures.js';
import { freePort, keyPair, sshdForTests } from './sshd-for-tests.js';
import { parseLocation, type SftpLocation } from '../../../../../layers/kloset/core/location.js';

const sshd = sshdForTests();
const run = promisify(execFile);

/** A fresh directory path on the server (the server is this machine) and its sftp:// location. */
async function place(): Promise<{ dir: string; url: string }> {
  const dir = join(await tempDir('kloud-sftp-'), 'store');
  return { dir, url: `${sshd.server.url}${dir}` };
}

/** Connector options with `known_hosts` lines of our own. */
async function withKnownHosts(lines: string[]): Promise<Record<string, string>> {
  const file = join(await tempDir(), 'known_hosts');
  await writeFile(file, lines.map((l) => `${l}\n`).join(''));
  return { ...sshd.server.options, known_hosts: file };
}

describe('SFTP store against OpenSSH', () => {
  test('create, backup, restore and check --read-data; the directory is an fs store too', async () => {
    const { dir, url } = await place();
    const options = sshd.server.options;
    expect(await probeLocation(parseLocation(url, options))).toBe('absent');
    await createStore(parseLocation(url, options), {
      passphrase: PASSPHRASE,
      kdf: FAST_KDF,
      packSize: 64 * 1024,
    });
    expect(await probeLocation(parseLocation(url, options))).toBe('store');

    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'hello.txt': 'hello sftp',
      big: randomBytes(700 * 1024),
      sub: { dir: { 'nested.bin': randomBytes(90 * 1024), link: { symlink: '../hello.txt' } } },
      empty: { dir: {} },
    });
    const store = await openStore(parseLocation(url, options), { passphrase: PASSPHRASE });
    try {
      expect(store.location).toBe(url);
      const result = await store.backup([src]);
      expect(result.errors).toEqual([]);
      const entries = await store.ls(result.snapshot!.id, `${src}/sub`);
      expect(entries.map((e) => e.name)).toEqual(['link', 'nested.bin']);
      const to = await tempDir();
      expect((await store.restore(result.snapshot!.id, undefined, { to })).errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
      const report = await store.check({ readData: true });
      expect(report.problems).toEqual([]);
      expect((await store.info()).packs.data).toBeGreaterThan(1);
    } finally {
      await store.close();
    }

    // what the server holds: the fs store's layout, nothing left in tmp/
    const files = await listFiles(dir);
    expect(files).toContain('config');
    expect(files.filter((f) => f.startsWith('keys/'))).toHaveLength(1);
    for (const p of files.filter((f) => f.startsWith('packs/')))
      expect(p).toMatch(/^packs\/([0-9a-f]{2})\/\1[0-9a-f]+$/);
    expect(await readdir(join(dir, 'tmp'))).toEqual([]);
    const local = await openStore(dir, { passphrase: PASSPHRASE });
    try {
      expect((await local.check({ readData: true })).ok).toBe(true);
    } finally {
      await local.close();
    }
  });

  test('create refuses a store or other data; open tells a missing store from a directory that is not one', async () => {
    const options = sshd.server.options;
    const { url } = await place();
    await createStore(parseLocation(url, options), { passphrase: PASSPHRASE, kdf: FAST_KDF });
    const again = await failure(
      createStore(parseLocation(url, options), { passphrase: PASSPHRASE, kdf: FAST_KDF }),
    );
    expect(again.code).toBe('STORE_EXISTS');
    expect(again.message).toBe(`a store already exists at ${url}`);

    const { dir: occupied, url: occupiedUrl } = await place();
    await writeTree(occupied, { 'notes.txt': 'mine' });
    expect(await probeLocation(parseLocation(occupiedUrl, options))).toBe('other');
    const err = await failure(
      createStore(parseLocation(occupiedUrl, options), { passphrase: PASSPHRASE, kdf: FAST_KDF }),
    );
    expect(err.code).toBe('STORE_EXISTS');
    expect(err.message).toMatch(/is not empty/);
    const open = await failure(openStore(parseLocation(occupiedUrl, options), { passphrase: PASSPHRASE }));
    expect(open.code).toBe('NOT_A_STORE');
    expect(await readdir(occupied)).toEqual(['notes.txt']);

    const { url: nothing } = await place();
    const missing = await failure(openStore(parseLocation(nothing, options), { passphrase: PASSPHRASE }));
    expect(missing.code).toBe('STORE_NOT_FOUND');
    expect(missing.message).toBe(`no store at ${nothing} (create one with "create")`);
  });

  test('write-once: config cannot be written twice, an existing object is never replaced', async () => {
    const { dir, url } = await place();
    await mkdir(dir, { recursive: true });
    const backend = new SftpStore(parseLocation(url, sshd.server.options) as SftpLocation);
    try {
      await backend.prepare();
      await backend.put('config', 'config', [Buffer.from('first')]);
      const err = await failure(backend.put('config', 'config', [Buffer.from('second')]));
      expect(err.code).toBe('STORE_EXISTS');
      const name = 'ab'.padEnd(64, '0');
      await backend.put('packs', name, [Buffer.from('original'), Buffer.from(' bytes')]);
      await backend.put('packs', name, [Buffer.from('other bytes')]);
      expect((await backend.get('packs', name)).toString()).toBe('original bytes');
      expect((await backend.getRange('packs', name, 9, 5)).toString()).toBe('bytes');
      expect((await backend.get('config', 'config')).toString()).toBe('first');
      expect(await backend.stat('packs', name)).toBe(14);
      const listed = [];
      for await (const o of backend.list('packs')) listed.push(o);
      expect(listed).toEqual([{ name, size: 14 }]);
      expect(await readdir(join(dir, 'tmp'))).toEqual([]);
      await backend.delete('packs', name);
      await backend.delete('packs', name);
      expect(await backend.stat('packs', name)).toBeUndefined();
      const gone = await failure(backend.get('packs', name));
      expect(gone.code).toBe('CORRUPT');
      // the read handle kept open for ranges is dropped with the object
      expect((await failure(backend.getRange('packs', name, 0, 4))).code).toBe('CORRUPT');
    } finally {
      await backend.close();
    }
  });

  test('temporary files of killed writers are listed with size and time; a backup removes those older than a day', async () => {
    const { dir, url } = await place();
    const options = sshd.server.options;
    await createStore(parseLocation(url, options), { passphrase: PASSPHRASE, kdf: FAST_KDF });
    const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
    await writeFile(join(dir, 'tmp', 'killed'), Buffer.alloc(1234));
    await utimes(join(dir, 'tmp', 'killed'), old, old);
    await writeFile(join(dir, 'tmp', 'running'), Buffer.alloc(10));
    const backend = new SftpStore(parseLocation(url, options) as SftpLocation);
    try {
      const listed = [];
      for await (const f of backend.listTemporary()) listed.push(f);
      expect(listed.sort((a, b) => a.name.localeCompare(b.name))).toEqual([
        { name: 'killed', size: 1234, modified: new Date(Math.floor(old.getTime() / 1000) * 1000) },
        { name: 'running', size: 10, modified: expect.any(Date) },
      ]);
    } finally {
      await backend.close();
    }
    const store = await openStore(parseLocation(url, options), { passphrase: PASSPHRASE });
    try {
      expect((await store.check()).stats).toMatchObject({ temporaryFiles: 2, temporaryBytes: 1244 });
      const src = join(await tempDir(), 'src');
      await writeTree(src, { 'a.txt': 'a' });
      await store.backup([src]);
    } finally {
      await store.close();
    }
    expect(await readdir(join(dir, 'tmp'))).toEqual(['running']);
  });

  test('a large object is written and read back in many blocks', async () => {
    const { url } = await place();
    const backend = new SftpStore(parseLocation(url, sshd.server.options) as SftpLocation);
    try {
      await backend.prepare();
      const data = randomBytes(3 * 1024 * 1024 + 123);
      const name = 'cd'.padEnd(64, '1');
      await backend.put('packs', name, [data.subarray(0, 1000), data.subarray(1000)]);
      expect((await backend.get('packs', name)).equals(data)).toBe(true);
      const range = await backend.getRange('packs', name, 300_000, 2_000_000);
      expect(range.equals(data.subarray(300_000, 2_300_000))).toBe(true);
    } finally {
      await backend.close();
    }
  });

  test('an unknown host is refused with the command that adds its key; that command works', async () => {
    const options = await withKnownHosts([]);
    const { url } = await place();
    const err = await failure(probeLocation(parseLocation(url, options)));
    expect(err.code).toBe('HOST_KEY_UNKNOWN');
    const { port } = sshd.server;
    const command = `ssh-keyscan -p ${port} -t ed25519 127.0.0.1 >> ${options.known_hosts}`;
    expect(err.message).toMatch(
      new RegExp(`^\\[127\\.0\\.0\\.1\\]:${port} is not a known host: its key ssh-ed25519 SHA256:`),
    );
    expect(err.message.endsWith(`add it with: ${command}`)).toBe(true);
    await run('/bin/sh', ['-c', command]);
    expect(await probeLocation(parseLocation(url, options))).toBe('absent');
  });

  test('a changed host key is refused loudly; a revoked one too', async () => {
    const other = await readFile(`${await keyPair(await tempDir(), 'impostor')}.pub`, 'utf8');
    const line = `[127.0.0.1]:${sshd.server.port} ${other.split(' ').slice(0, 2).join(' ')}`;
    const changed = await failure(
      probeLocation(parseLocation((await place()).url, await withKnownHosts([line]))),
    );
    expect(changed.code).toBe('HOST_KEY_CHANGED');
    expect(changed.message).toMatch(
      /^HOST KEY CHANGED: \[127\.0\.0\.1\]:\d+ presents ssh-ed25519 SHA256:\S+, but .* line 1 holds another ssh-ed25519 key/,
    );

    const revoked = await withKnownHosts([`@revoked ${sshd.server.knownHostsLines.ed25519}`]);
    const err = await failure(probeLocation(parseLocation((await place()).url, revoked)));
    expect(err.code).toBe('HOST_KEY_CHANGED');
    expect(err.message).toMatch(/is marked @revoked in .* line 1; refusing to connect$/);
  });

  test('known keys are found hashed, and the key type known_hosts holds is the one asked for', async () => {
    const hashed = await withKnownHosts([sshd.server.knownHostsLines.ed25519]);
    await run('/usr/bin/ssh-keygen', ['-H', '-f', hashed.known_hosts!]);
    expect(await probeLocation(parseLocation((await place()).url, hashed))).toBe('absent');
    // the server has ed25519 and ECDSA host keys; ssh2 would prefer ed25519 unless told otherwise
    const ecdsaOnly = await withKnownHosts([sshd.server.knownHostsLines.ecdsa]);
    expect(await probeLocation(parseLocation((await place()).url, ecdsaOnly))).toBe('absent');
  });

  test('insecure_ignore_host_key=true connects to an unknown host, with a warning', async () => {
    const { url } = await place();
    const options = { identity: sshd.server.options.identity!, insecure_ignore_host_key: 'true' };
    const insecure = { ...options, known_hosts: join(await tempDir(), 'none') };
    const backend = new SftpStore(parseLocation(url, insecure) as SftpLocation);
    try {
      expect(connectorWarning(parseLocation(url, insecure))).toMatch(
        /host key of 127\.0\.0\.1 is not verified/,
      );
      expect(await backend.probe()).toBe('absent');
    } finally {
      await backend.close();
    }
  });

  test('a key the server does not accept is AUTH_FAILED; an encrypted key needs its passphrase', async () => {
    const dir = await tempDir();
    const stranger = await keyPair(dir, 'stranger');
    const { url } = await place();
    const refused = await failure(
      probeLocation(parseLocation(url, { ...sshd.server.options, identity: stranger })),
    );
    expect(refused.code).toBe('AUTH_FAILED');
    expect(refused.message).toBe(
      `127.0.0.1:${sshd.server.port} refused the credentials for user ${sshd.server.user} (offered: key ${stranger})`,
    );
    const key = await readFile(stranger, 'utf8');
    expect(refused.message).not.toContain(key.split('\n')[1]);

    const secret = 'open sesame';
    const locked = await keyPair(dir, 'locked', 'ed25519', secret);
    await appendFile(join(sshd.server.dir, 'authorized_keys'), await readFile(`${locked}.pub`));
    const options = { ...sshd.server.options, identity: locked };
    const noPassphrase = await failure(probeLocation(parseLocation(url, options)));
    expect(noPassphrase.code).toBe('INVALID_ARGUMENT');
    expect(noPassphrase.message).toBe(`identity file ${locked} is encrypted: give identity_passphrase`);
    const wrong = await failure(
      probeLocation(parseLocation(url, { ...options, identity_passphrase: 'not it' })),
    );
    expect(wrong.code).toBe('AUTH_FAILED');
    expect(wrong.message).not.toContain('not it');
    expect(await probeLocation(parseLocation(url, { ...options, identity_passphrase: secret }))).toBe(
      'absent',
    );
  });

  test('a port nothing listens on is named', async () => {
    const port = await freePort();
    const err = await failure(
      probeLocation(parseLocation(`sftp://root@127.0.0.1:${port}/x`, sshd.server.options)),
    );
    expect(err.code).toBe('IO');
    expect(err.message).toBe(`cannot reach 127.0.0.1:${port} (ECONNREFUSED)`);
  });
});
