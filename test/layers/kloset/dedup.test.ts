import { randomBytes } from 'node:crypto';
import { open, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { listFiles, newStore, removeTempDirs, tempDir, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

describe('deduplication', () => {
  test('the same tree backed up twice adds only a snapshot record, trees and an index delta', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'a.bin': randomBytes(100_000),
      sub: { dir: { 'b.txt': 'hello', 'c.txt': 'hello' } },
    });
    await store.backup([src]);
    const before = await listFiles(location);
    const infoBefore = await store.info();
    const second = await store.backup([src], { parent: null });
    const added = (await listFiles(location)).filter((f) => !before.includes(f));
    // one metadata pack (the snapshot record, and new nodes only for the directories above the
    // source, whose mtimes other tests may change) and one delta
    expect(added.filter((f) => f.startsWith('packs/'))).toHaveLength(1);
    expect(added.filter((f) => f.startsWith('index/'))).toHaveLength(1);
    expect(added).toHaveLength(2);
    const infoAfter = await store.info();
    expect(infoAfter.packs.data).toBe(infoBefore.packs.data);
    expect(infoAfter.blobs.data).toBe(infoBefore.blobs.data);
    expect(infoAfter.blobs.tree - infoBefore.blobs.tree).toBeLessThanOrEqual(src.split('/').length - 1);
    expect(infoAfter.blobs.snapshot).toBe(infoBefore.blobs.snapshot + 1);
    expect(second.summary.filesRead).toBe(3);
    expect(second.summary.newBytes).toBe(0);
  });

  test('a 4 KiB change in the middle of a 50 MB file adds about one chunk', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    const file = join(src, 'big.bin');
    await writeTree(src, {});
    await writeFile(file, randomBytes(50 * 1024 * 1024));
    await store.backup([src]);
    const before = await store.info();
    const fh = await open(file, 'r+');
    await fh.write(randomBytes(4096), 0, 4096, 25 * 1024 * 1024);
    await fh.close();
    const result = await store.backup([src]);
    const after = await store.info();
    expect(result.summary.filesRead).toBe(1);
    expect(after.blobs.data - before.blobs.data).toBeLessThanOrEqual(2);
    // at most two chunks' worth of new data (avg chunk 1 MiB), out of 50 MB
    expect(result.summary.newBytes).toBeLessThan(4 * 1024 * 1024);
  });

  test('equal files in different places are stored once', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    const content = randomBytes(700_000);
    await writeTree(src, { a: content, b: content, deep: { dir: { c: content } } });
    const result = await store.backup([src]);
    expect(result.summary.bytes).toBe(3 * content.length);
    expect((await store.info()).uniqueBytes).toBe(content.length);
  });
});
