import { randomBytes } from 'node:crypto';
import { chmod, readFile, rm, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsStore } from '../../../../layers/kloset/connectors/fs/fs-store.js';
import { Repository } from '../../../../layers/kloset/repository/repository.js';
import { Store, backupBatch, commitSnapshot, planBackup } from '../../../../layers/kloset/index.js';
import { FsSource } from '../../../../layers/kloset/connectors/fs/fs-source.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { FailingStore } from '../safety/failing-store.js';
import { TreeReader } from '../../../../layers/kloset/snapshot/tree-reader.js';
import {
  belowSource,
  distributedBackup,
  itemsOf,
  planBatches,
  planBatchesInSteps,
  runWorkers,
} from './distributed.js';

afterAll(removeTempDirs);

const MiB = 1024 * 1024;
const BATCHES = { maxBatchBytes: 64 * 1024, maxBatchEntries: 8 };

/** A tree with what a backup meets: nested and empty directories, links, names sorting across `/`. */
async function sourceTree(): Promise<string> {
  const src = join(await tempDir(), 'src');
  await writeTree(src, {
    'top.txt': 'top',
    a: { dir: { 'a1.txt': 'a1', deep: { dir: { 'a2.txt': 'a2', link: { symlink: '../a1.txt' } } } } },
    'a-b.txt': 'sorts before a/ in walk order',
    'a.txt': 'and so does this',
    b: { dir: { 'b1.bin': randomBytes(50_000), 'b2.bin': randomBytes(30_000) } },
    empty: { dir: {}, mode: 0o700 },
    many: { dir: Object.fromEntries(Array.from({ length: 12 }, (_, i) => [`m${i}.txt`, `many ${i}`])) },
  });
  return src;
}

/** The tree ID of a directory in a snapshot (above `src`, /tmp's mtime changes as tests make folders). */
async function subtreeOf(store: Store, root: string, path: string): Promise<string | undefined> {
  const { entry } = await new TreeReader(store.repo).resolve(root, path);
  return entry.type === 'dir' ? entry.subtree : undefined;
}

async function restored(store: Store, id: string, src: string) {
  const to = await tempDir();
  const result = await store.restore(id, undefined, { to });
  expect(result.errors).toEqual([]);
  return treeDigest(join(to, src));
}

describe('distributed backups: a plan, batches backed up by workers, a commit', () => {
  test('plan, several workers and commit restore the same tree as a single backup', async () => {
    const { store, location } = await newStore();
    const src = await sourceTree();
    const { snapshot, batches } = await distributedBackup(store, location, [src], BATCHES);
    expect(batches.length).toBeGreaterThan(3);
    for (const b of batches) {
      expect(b.items.length).toBeLessThanOrEqual(BATCHES.maxBatchEntries);
    }
    const single = await store.backup([src], { parent: null });
    const { files, dirs, symlinks, bytes, filesRead } = single.summary;
    expect(snapshot.summary).toMatchObject({ files, dirs, symlinks, bytes, filesRead });
    expect(snapshot.errors).toEqual([]);
    expect(await restored(store, snapshot.id, src)).toEqual(await treeDigest(src));
    // same content, same metadata: the very same tree nodes
    expect(await subtreeOf(store, snapshot.root, src)).toBe(
      await subtreeOf(store, single.snapshot!.root, src),
    );
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('a file several times a batch is backed up in ranges by separate workers and restores byte for byte', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    const big = randomBytes(9 * MiB + 12_345);
    await writeTree(src, { 'big.bin': big, 'small.txt': 'small' });
    const budget = { maxBatchBytes: 2 * MiB, maxBatchEntries: 100 };
    const { snapshot, batches } = await distributedBackup(store, location, [src], budget);
    const ranges = itemsOf(batches).filter((i) => i.startsWith('range'));
    expect(ranges).toEqual(
      [0, 1, 2, 3, 4].map((n) => `range ${src}/big.bin@${n * 2 * MiB}+${n < 4 ? 2 * MiB : MiB + 12_345}`),
    );
    // every range is its own batch: a worker reads at most the budget
    expect(batches.filter((b) => b.items.some((i) => i.kind === 'range')).length).toBe(5);
    expect(snapshot.summary).toMatchObject({ files: 2, filesRead: 2, bytes: big.length + 5 });
    const to = await tempDir();
    await store.restore(snapshot.id, undefined, { to });
    expect((await readFile(join(to, src, 'big.bin'))).equals(big)).toBe(true);
    expect((await store.check({ readData: true })).ok).toBe(true);

    // a commit missing one range refuses to make a snapshot
    const again = await planBatches(store, [src], { ...budget, parent: null });
    const withoutOne = again.batches.filter(
      (b) => !b.items.some((i) => i.kind === 'range' && i.offset === 2 * MiB),
    );
    const partials = await runWorkers(location, withoutOne);
    await expect(
      commitSnapshot(
        store.repo,
        partials.map((p) => p.partialTree),
        { sources: again.plan.sources, startedAt: 0 },
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/ranges of .*big\.bin do not join/),
    });
  });

  test('a second plan lists only what changed; the commit keeps the rest from the parent', async () => {
    const { store, location } = await newStore();
    const src = await sourceTree();
    const first = await distributedBackup(store, location, [src], BATCHES);
    await writeFile(join(src, 'a/deep/a2.txt'), 'changed');
    await writeFile(join(src, 'new.txt'), 'new');
    await rm(join(src, 'many/m3.txt'));
    await rm(join(src, 'b'), { recursive: true });
    await chmod(join(src, 'top.txt'), 0o600); // new metadata, same content: in a batch, not read
    const second = await distributedBackup(store, location, [src], BATCHES);
    expect(second.snapshot.parent).toBe(first.snapshot.id);
    // directories come back for their new mtimes; unchanged files never (nor /tmp, above src)
    expect(
      itemsOf(second.batches)
        .filter((i) => i.includes(src))
        .sort(),
    ).toEqual(
      [
        `entry ${src}`,
        `entry ${src}/a/deep/a2.txt`,
        `entry ${src}/many`,
        `entry ${src}/new.txt`,
        `entry ${src}/top.txt`,
        `gone ${src}/b`,
        `gone ${src}/many/m3.txt`,
      ].sort(),
    );
    expect(second.snapshot.summary).toMatchObject({ filesRead: 2, files: 17 });
    expect(await restored(store, second.snapshot.id, src)).toEqual(await treeDigest(src));
    const single = await store.backup([src], { parent: null });
    expect(await subtreeOf(store, second.snapshot.root, src)).toBe(
      await subtreeOf(store, single.snapshot!.root, src),
    );
  });

  test('a plan stopped at every entry and resumed from its cursor yields the batches of one run', async () => {
    const { store, location } = await newStore();
    const src = await sourceTree();
    const once = await planBatches(store, [src], BATCHES);
    const stepped = await planBatchesInSteps(store, [src], BATCHES);
    expect(stepped.invocations).toBeGreaterThan(20);
    expect(belowSource(stepped.batches, src)).toEqual(belowSource(once.batches, src));
    // with `minEntries`, each invocation compares that many before the passed deadline stops it
    const inTens = await planBatchesInSteps(store, [src], { ...BATCHES, minEntries: 10 });
    expect(inTens.invocations).toBe(Math.ceil(stepped.invocations / 10));
    expect(belowSource(inTens.batches, src)).toEqual(belowSource(once.batches, src));
    // and against a parent, with a directory gone (its entries are not listed again on resuming)
    await distributedBackup(store, location, [src], BATCHES);
    await rm(join(src, 'many'), { recursive: true });
    await writeFile(join(src, 'top.txt'), 'changed');
    const onceAgain = await planBatches(store, [src], BATCHES);
    const steppedAgain = await planBatchesInSteps(store, [src], BATCHES);
    expect(belowSource(steppedAgain.batches, src)).toEqual(belowSource(onceAgain.batches, src));
    expect(itemsOf(onceAgain.batches).filter((i) => i.includes(src))).toEqual([
      `entry ${src}`,
      `gone ${src}/many`,
      `entry ${src}/top.txt`,
    ]);
  });

  test('a worker that fails leaves no snapshot and a valid store; the next run adopts its packs', async () => {
    const { store, location } = await newStore({ packSize: 64 * 1024, compression: 'none' });
    const src = join(await tempDir(), 'src');
    await writeTree(
      src,
      Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`f${i}.bin`, randomBytes(80_000)])),
    );
    const { plan, batches } = await planBatches(store, [src], {
      maxBatchBytes: 400_000,
      maxBatchEntries: 100,
    });
    expect(batches.length).toBe(2);
    // the first worker writes its packs, then its index delta fails: what a killed Lambda leaves
    const backend = new FailingStore(new FsStore(location));
    backend.failing = { kinds: ['index'], after: 0, code: 'EIO' };
    const failing = new Store(await Repository.open(backend, { passphrase: PASSPHRASE }));
    await expect(backupBatch(failing.repo, batches[0]!)).rejects.toMatchObject({ code: 'IO' });
    await failing.close();
    const [ok] = await runWorkers(location, [batches[1]!]);
    // the run stops: no commit, so no snapshot
    expect(ok!.partialTree).toMatch(/^[0-9a-f]{64}$/);
    await store.repo.refreshIndex();
    expect(await store.snapshots()).toEqual([]);
    const report = await store.check({ readData: true });
    expect(report.ok).toBe(true);

    const next = await distributedBackup(store, location, [src], {
      maxBatchBytes: 400_000,
      maxBatchEntries: 100,
    });
    expect(plan.sources).toEqual(next.snapshot.sources);
    expect(next.snapshot.summary.filesRead).toBe(8);
    // the failed worker's content was in its orphaned packs, adopted by the plan: little is new
    expect(next.snapshot.summary.newBytes).toBeLessThan(20_000);
    expect(await restored(store, next.snapshot.id, src)).toEqual(await treeDigest(src));
    const after = await store.check({ readData: true });
    expect(after.ok).toBe(true);
    expect(after.notes).toEqual([]);
  });

  test('a commit refuses batches planned against another parent than the one it is given', async () => {
    const { store, location } = await newStore();
    const src = await sourceTree();
    await distributedBackup(store, location, [src], BATCHES);
    await writeFile(join(src, 'top.txt'), 'changed');
    const { batches } = await planBatches(store, [src], BATCHES);
    const partials = await runWorkers(location, batches);
    await expect(
      commitSnapshot(
        store.repo,
        partials.map((p) => p.partialTree),
        { sources: [src], startedAt: 0 },
      ),
    ).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
      message: expect.stringMatching(/planned against a parent/),
    });
  });

  test('a batch that is not one is refused before anything is written', async () => {
    const { store } = await newStore();
    await expect(backupBatch(store.repo, { items: [{ kind: 'nope' }] } as never)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    await expect(planBackup(store.repo, new FsSource(), [], BATCHES)).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
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
