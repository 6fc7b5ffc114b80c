/**
 * The distributed commit repeated, as a state machine retries a commit whose invocation died
 * after writing the snapshot: with the snapshot's time given, the same partial trees and meta
 * make the same record, and the repeat writes nothing.
 */
import { readdir } from 'node:fs/promises';
import { join } from 'node:path';
import { commitSnapshot } from '../../../../layers/kloset/index.js';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';
import { planBatches, runWorkers } from './distributed.js';

afterAll(removeTempDirs);

test('a commit repeated with the same trees and time answers the same snapshot and writes nothing', async () => {
  const { store, location } = await newStore();
  const src = join(await tempDir(), 'src');
  await writeTree(src, {
    a: { dir: Object.fromEntries(Array.from({ length: 10 }, (_, i) => [`a${i}.txt`, `file a${i}`])) },
    b: { dir: { 'b.txt': 'b' } },
  });
  const { plan, batches } = await planBatches(store, [src], { maxBatchBytes: 64 * 1024, maxBatchEntries: 4 });
  expect(batches.length).toBeGreaterThan(1);
  const trees = (await runWorkers(location, batches)).map((r) => r.partialTree);
  const startedAt = Date.now() - 10_000;
  const meta = { sources: plan.sources, startedAt, time: startedAt + 5_000 };
  const first = await commitSnapshot(store.repo, trees, meta);
  expect(first.time).toBe(new Date(meta.time).toISOString());
  expect(first.summary.durationMs).toBe(5_000);
  const deltas = await readdir(join(location, 'index'));

  const again = await commitSnapshot(store.repo, trees, meta);
  expect(again).toEqual(first);
  expect(await readdir(join(location, 'index'))).toEqual(deltas);
  expect((await store.snapshots()).map((s) => s.id)).toEqual([first.id]);
  expect((await store.check()).problems).toEqual([]);

  // the time is what a commit fixes: taken at the commit (the default), it is another snapshot
  const later = await commitSnapshot(store.repo, trees, { sources: plan.sources, startedAt });
  expect(later.id).not.toBe(first.id);
  await store.close();
});
