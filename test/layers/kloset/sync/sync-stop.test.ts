/** A sync stopped between snapshots says what is left, and a later sync of that list finishes it. */
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { syncSnapshots } from '../../../../layers/kloset/index.js';
import { newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

test('stopBefore stops between whole snapshots; remaining continues where it stopped', async () => {
  const { store: source } = await newStore();
  const { store: dest } = await newStore();
  const src = join(await tempDir(), 'src');
  await writeTree(src, { 'notes.txt': 'notes\n' });
  const ids: string[] = [];
  for (const line of ['one', 'two', 'three']) {
    await appendFile(join(src, 'notes.txt'), `${line}\n`);
    ids.push((await source.backup([src])).snapshot!.id);
  }
  let asked = 0;
  const first = await syncSnapshots(source, dest, { stopBefore: () => ++asked >= 2 });
  // asked before the second and third snapshots only: the first is always copied
  expect(asked).toBe(2);
  expect(first.copied.map((c) => c.from)).toEqual(ids.slice(0, 2));
  expect(first.remaining).toEqual(ids.slice(2));
  expect((await dest.snapshots()).length).toBe(2);

  const rest = await syncSnapshots(source, dest, {
    snapshots: [...first.remaining!],
    stopBefore: () => true,
  });
  expect(rest.copied.map((c) => c.from)).toEqual(ids.slice(2));
  expect(rest.remaining).toBeUndefined();
  const to = await tempDir();
  expect((await dest.restore('latest', undefined, { to })).errors).toEqual([]);
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  await Promise.all([source.close(), dest.close()]);
});
