import { randomBytes } from 'node:crypto';
import { link, stat, utimes, writeFile } from 'node:fs/promises';
import { userInfo } from 'node:os';
import { join } from 'node:path';
import { SftpDestination } from '../../../../../layers/kloset/connectors/sftp/sftp-destination.js';
import { SftpSource } from '../../../../../layers/kloset/connectors/sftp/sftp-source.js';
import { KlosetError } from '../../../../../layers/kloset/index.js';
import { type DigestEntry, failureOf, newStore, tempDir, treeDigest, writeTree } from '../../fixtures.js';
import { sshdForTests } from './sshd-for-tests.js';
import { parseLocation, type SftpLocation } from '../../../../../layers/kloset/core/location.js';

const sshd = sshdForTests();

/** A tree digest at SFTP's precision: times in whole seconds. */
async function secondsDigest(root: string): Promise<Record<string, DigestEntry>> {
  const digest = await treeDigest(root);
  for (const e of Object.values(digest))
    if (e.mtimeMs !== undefined) e.mtimeMs = Math.floor(e.mtimeMs / 1000);
  return digest;
}

async function sampleTree(): Promise<string> {
  const root = join(await tempDir('kloud-sftp-src-'), 'data');
  await writeTree(root, {
    'a.txt': 'alpha',
    'run.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o750 },
    big: randomBytes(2 * 1024 * 1024 + 17), // more than one read step
    docs: { dir: { 'b.md': 'bravo', deeper: { dir: { 'c.bin': randomBytes(300 * 1024) } } }, mode: 0o711 },
    'to-a': { symlink: 'a.txt' },
    empty: { dir: {} },
  });
  return root;
}

describe('SFTP directory as a backup source and a restore destination', () => {
  test('entries carry lstat metadata; a missing path is PATH_NOT_FOUND; ~ is the login directory', async () => {
    const root = await sampleTree();
    const source = new SftpSource(
      parseLocation(`${sshd.server.url}${root}`, sshd.server.options) as SftpLocation,
    );
    try {
      const top = await source.stat('/');
      expect(top).toMatchObject({ type: 'dir', name: '/', device: 0, inode: 0, links: 1 });
      const entries = new Map((await source.list('/')).map((e) => [e.name, e]));
      expect([...entries.keys()].sort()).toEqual(['a.txt', 'big', 'docs', 'empty', 'run.sh', 'to-a']);
      const local = await stat(join(root, 'run.sh'));
      expect(entries.get('run.sh')).toMatchObject({
        type: 'file',
        mode: 0o750,
        size: local.size,
        uid: local.uid,
        gid: local.gid,
        mtimeNs: BigInt(Math.floor(local.mtimeMs / 1000)) * 1_000_000_000n,
      });
      expect(entries.get('to-a')).toMatchObject({ type: 'symlink', target: 'a.txt', size: 0 });
      expect(entries.get('docs')).toMatchObject({ type: 'dir', mode: 0o711 });
      expect(await source.stat('/docs/deeper')).toMatchObject({ name: 'deeper', type: 'dir' });
      const missing = await failureOf(source.stat('/nope'));
      expect(missing).toBeInstanceOf(KlosetError);
      expect(missing.code).toBe('PATH_NOT_FOUND');
    } finally {
      await source.close();
    }
    // sftp://host/~ is the login directory: the account's passwd home, whatever $HOME says here
    const home = new SftpSource(parseLocation(`${sshd.server.url}/~`, sshd.server.options) as SftpLocation);
    try {
      const local = await stat(userInfo().homedir);
      expect(await home.stat('/')).toMatchObject({ type: 'dir', mode: local.mode & 0o7777, uid: local.uid });
    } finally {
      await home.close();
    }
  });

  test('back up from SFTP, restore locally; an unchanged tree is not read again, a changed file is', async () => {
    const root = await sampleTree();
    const source = new SftpSource(parseLocation(sshd.server.url, sshd.server.options) as SftpLocation);
    const { store } = await newStore();
    try {
      const first = await store.backup([root], { source });
      expect(first.errors).toEqual([]);
      expect(first.snapshot!.summary.filesRead).toBe(5);
      const to = await tempDir();
      expect((await store.restore(first.snapshot!.id, undefined, { to })).errors).toEqual([]);
      expect(await secondsDigest(join(to, root))).toEqual(await secondsDigest(root));

      const second = await store.backup([root], { source });
      expect(second.errors).toEqual([]);
      expect(second.snapshot!.summary.filesRead).toBe(0);

      // same size, another second: only the time tells (SFTP has no inode numbers)
      await writeFile(join(root, 'a.txt'), 'ALPHA');
      const later = new Date((Math.floor(Date.now() / 1000) + 5) * 1000);
      await utimes(join(root, 'a.txt'), later, later);
      const third = await store.backup([root], { source });
      expect(third.snapshot!.summary.filesRead).toBe(1);
    } finally {
      await store.close();
      await source.close();
    }
  });

  test('restore to SFTP: modes, times, links; existing files are kept or replaced as the policy says', async () => {
    const root = await sampleTree();
    await link(join(root, 'a.txt'), join(root, 'hard-a'));
    const { store } = await newStore();
    const target = join(await tempDir('kloud-sftp-dest-'), 'restored');
    const destination = new SftpDestination(
      parseLocation(`${sshd.server.url}${target}`, sshd.server.options) as SftpLocation,
    );
    try {
      const { snapshot } = await store.backup([root]);
      const first = await store.restore(snapshot!.id, root, { destination });
      expect(first.errors).toEqual([]);
      expect(first.files).toBe(6);
      expect(await secondsDigest(join(target, 'data'))).toEqual(await secondsDigest(root));
      expect((await stat(join(target, 'data/hard-a'))).ino).toBe(
        (await stat(join(target, 'data/a.txt'))).ino,
      );

      await writeFile(join(target, 'data/a.txt'), 'changed here');
      const kept = await store.restore(snapshot!.id, root, { destination });
      expect(kept.errors).toEqual([]);
      expect(kept.skipped).toBe(7); // six files and a symbolic link
      expect((await stat(join(target, 'data/a.txt'))).size).toBe('changed here'.length);

      const replaced = await store.restore(snapshot!.id, root, { destination, overwrite: 'always' });
      expect(replaced.errors).toEqual([]);
      expect(await secondsDigest(join(target, 'data'))).toEqual(await secondsDigest(root));
    } finally {
      await store.close();
      await destination.close();
    }
  });
});
