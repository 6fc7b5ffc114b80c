import { randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SftpSource } from '../../../../layers/kloset/connectors/sftp/sftp-source.js';
import { type SftpLocation, parseLocation } from '../../../../layers/kloset/core/location.js';
import { newStore, tempDir, writeTree } from '../fixtures.js';
import { sshdForTests } from '../connectors/sftp/sshd-for-tests.js';
import { distributedBackup, itemsOf } from './distributed.js';

const sshd = sshdForTests();
const MiB = 1024 * 1024;

describe('a distributed backup of an SFTP directory', () => {
  test('a file larger than a batch is read in ranges over SFTP and restores byte for byte', async () => {
    const root = join(await tempDir('kloud-sftp-plan-'), 'data');
    const big = randomBytes(2 * MiB + 17);
    await writeTree(root, { big, docs: { dir: { 'a.txt': 'alpha', 'to-a': { symlink: 'a.txt' } } } });
    const source = new SftpSource(
      parseLocation(`${sshd.server.url}${root}`, sshd.server.options) as SftpLocation,
    );
    const { store, location } = await newStore();
    try {
      const { snapshot, batches } = await distributedBackup(
        store,
        location,
        ['/'],
        { maxBatchBytes: MiB, maxBatchEntries: 10 },
        source,
      );
      expect(itemsOf(batches).filter((i) => i.startsWith('range'))).toEqual([
        `range /big@0+${MiB}`,
        `range /big@${MiB}+${MiB}`,
        `range /big@${2 * MiB}+17`,
      ]);
      expect(snapshot.errors).toEqual([]);
      const to = await tempDir();
      expect((await store.restore(snapshot.id, undefined, { to })).errors).toEqual([]);
      expect((await readFile(join(to, 'big'))).equals(big)).toBe(true);
      expect(await readFile(join(to, 'docs/a.txt'), 'utf8')).toBe('alpha');
    } finally {
      await store.close();
      await source.close();
    }
  });
});
