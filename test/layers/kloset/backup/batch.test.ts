import { join } from 'node:path';
import { backupBatch, commitSnapshot } from '../../../../layers/kloset/backup/backup.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { openStore } from '../../../../layers/kloset/index.js';

afterAll(removeTempDirs);

describe('backups in pieces: batches then a commit', () => {
  test('three batches from separate workers commit into one snapshot equal to the source', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'top.txt': 'top',
      a: { dir: { 'a1.txt': 'a1', deep: { dir: { 'a2.txt': 'a2' } } } },
      b: { dir: { 'b1.txt': 'b1' } },
      c: { dir: { 'c1.bin': Buffer.alloc(50_000, 7) } },
    });
    // each worker opens the store on its own, as a Lambda would
    const worker = async (paths: string[]) =>
      backupBatch(await openStore(location, { passphrase: PASSPHRASE }).then((s) => s.repo), paths);
    const results = await Promise.all([
      worker([join(src, 'a'), join(src, 'top.txt')]),
      worker([join(src, 'b')]),
      worker([join(src, 'c', 'c1.bin')]),
    ]);
    const startedAt = Date.now();
    const record = await commitSnapshot(
      store.repo,
      results.map((r) => r.partialTree),
      { sources: [src], tags: ['distributed'], startedAt },
    );
    expect(record.summary.files).toBe(5);
    expect(record.errors).toEqual([]);
    await store.repo.refreshIndex();
    expect((await store.snapshots()).map((s) => s.id)).toEqual([record.id]);
    const to = await tempDir();
    await store.restore(record.id, undefined, { to });
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('a batch that fails on one file reports it and the commit records it', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'ok.txt': 'ok' });
    const batch = await backupBatch(store.repo, [join(src, 'ok.txt'), join(src, 'missing.txt')]);
    expect(batch.errors.map((e) => e.path)).toEqual([join(src, 'missing.txt')]);
    const record = await commitSnapshot(store.repo, [batch.partialTree], {
      sources: [src],
      startedAt: Date.now(),
    });
    expect(record.errors).toEqual(batch.errors);
    expect((await store.ls(record.id, src)).map((e) => e.name)).toEqual(['ok.txt']);
  });

  test('no-change backups read nothing; touching one file reads only that file', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}.txt`, `content ${i}`]));
    await writeTree(src, { ...files, sub: { dir: { 'x.txt': 'x' } } });
    expect((await store.backup([src])).summary.filesRead).toBe(41);
    const again = await store.backup([src]);
    expect(again.summary.filesRead).toBe(0);
    expect(again.summary.newBytes).toBe(0);
    await writeTree(src, { sub: { dir: { 'x.txt': 'changed' } } });
    const touched = await store.backup([src]);
    expect(touched.summary.filesRead).toBe(1);
    expect(touched.snapshot!.parent).toBe(again.snapshot!.id);
  });
});
