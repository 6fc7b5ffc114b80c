import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { FsStore } from '../../../../layers/kloset/connectors/fs/fs-store.js';
import { Store } from '../../../../layers/kloset/index.js';
import { Repository } from '../../../../layers/kloset/repository/repository.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';
import { FailingStore } from './failing-store.js';

afterAll(removeTempDirs);

async function fixture() {
  const { location } = await newStore({ packSize: 64 * 1024, compression: 'none' });
  const backend = new FailingStore(new FsStore(location));
  const store = new Store(await Repository.open(backend, { passphrase: PASSPHRASE }));
  const src = join(await tempDir(), 'src');
  const files = Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`f${i}.bin`, randomBytes(80_000)]));
  await writeTree(src, files);
  return { backend, store, src };
}

describe('a failing store write', () => {
  test('a full disk aborts the backup with a clear error and leaves the store valid', async () => {
    const { backend, store, src } = await fixture();
    backend.failing = { kinds: ['packs'], after: 3, code: 'ENOSPC' };
    await expect(store.backup([src])).rejects.toMatchObject({
      code: 'IO',
      message: expect.stringMatching(/failed: no space left on device; nothing was committed/),
    });
    expect(await store.snapshots()).toEqual([]);
    expect((await store.check({ readData: true })).ok).toBe(true);
    backend.failing = undefined;
    const ok = await store.backup([src]);
    expect(ok.errors).toEqual([]);
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('packs written before an interruption are reused by the next backup', async () => {
    const { backend, store, src } = await fixture();
    // everything but the index delta is written: what a kill just before the commit leaves
    backend.failing = { kinds: ['index'], after: 0, code: 'EIO' };
    await expect(store.backup([src])).rejects.toMatchObject({ code: 'IO' });
    expect(await store.snapshots()).toEqual([]);
    backend.failing = undefined;
    const next = await store.backup([src]);
    expect(next.summary.filesRead).toBe(12);
    // the content was found in the orphaned packs: only metadata is new
    expect(next.summary.newBytes).toBeLessThan(20_000);
    const report = await store.check({ readData: true });
    expect(report.ok).toBe(true);
    expect(report.notes).toEqual([]);
  });
});
