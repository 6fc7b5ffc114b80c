/** Sync across connectors: a local store to an S3 store on s3rver, and on to another local store. */
import { randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { createStore, openStore, syncSnapshots } from '../../../../layers/kloset/index.js';
import { s3rverForTests } from '../connectors/s3/s3rver.js';
import { FAST_KDF, newStore, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { parseLocation } from '../../../../layers/kloset/core/location.js';

const BUCKET = 'kloud-sync';
const s3 = s3rverForTests([BUCKET]);
const S3_PASSPHRASE = 'the passphrase of the S3 store';

test('snapshots go from a local store to S3 and on to another local store, restorable at each step', async () => {
  const local = await newStore({ chunking: { min: 8 * 1024, avg: 32 * 1024, max: 128 * 1024 } });
  const location = `s3://${BUCKET}/synced`;
  // the S3 store chunks like the local one: blobs are copied without re-chunking
  await createStore(parseLocation(location, s3.server.options), {
    passphrase: S3_PASSPHRASE,
    kdf: FAST_KDF,
    packSize: 256 * 1024,
    chunking: local.store.config.chunking,
  });
  const remote = await openStore(parseLocation(location, s3.server.options), { passphrase: S3_PASSPHRASE });
  const src = join(await tempDir(), 'src');
  await writeTree(src, {
    'big.bin': randomBytes(700_000),
    'notes.txt': 'notes\n'.repeat(5000),
    sub: { dir: { 'small.bin': randomBytes(10_000), link: { symlink: '../notes.txt' } } },
  });
  const first = (await local.store.backup([src])).snapshot!;
  await appendFile(join(src, 'notes.txt'), 'one more\n');
  const second = (await local.store.backup([src])).snapshot!;
  try {
    const up = await syncSnapshots(local.store, remote);
    expect(up.copied.map((c) => c.from)).toEqual([first.id, second.id]);
    // the second snapshot translated its unchanged files from the first one's copy
    expect(up.bytesRead).toBe(first.summary.bytes + second.summary.bytes - (700_000 + 10_000));
    expect((await syncSnapshots(local.store, remote)).copied).toEqual([]);

    const { store: downstream } = await newStore();
    const down = await syncSnapshots(remote, downstream);
    expect(down.copied).toHaveLength(2);
    const copies = await downstream.snapshots();
    // a copy of a copy is still the snapshot first backed up
    expect(copies.map((s) => s.origin).sort()).toEqual(
      [first.id, second.id].map((id) => `${local.store.config.storeId}:${id}`).sort(),
    );
    expect((await syncSnapshots(local.store, downstream)).copied).toEqual([]);

    for (const store of [remote, downstream]) {
      const to = await tempDir();
      expect((await store.restore('latest', undefined, { to })).errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
      expect((await store.check({ readData: true })).ok).toBe(true);
    }
    await downstream.close();
  } finally {
    await remote.close();
  }
});
