/** prune rewrites mostly unused packs: their live blobs move to new packs, the old go two-phase. */
import { randomBytes } from 'node:crypto';
import { rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, openStore } from '../../../../layers/kloset/index.js';
import { consolidateIndex } from '../../../../layers/kloset/prune/consolidated-index.js';
import { SeededRandom } from '../../../../bench/seeded-random.js';
import {
  PASSPHRASE,
  listFiles,
  newStore,
  removeTempDirs,
  tempDir,
  treeDigest,
  writeTree,
} from '../fixtures.js';

afterAll(removeTempDirs);

async function packBytes(location: string): Promise<number> {
  let total = 0;
  for (const f of await listFiles(join(location, 'packs')))
    total += (await stat(join(location, 'packs', f))).size;
  return total;
}

/**
 * 40 small files in one data pack (1 MiB packs), backed up; 30 of them removed and backed up
 * again; the first snapshot removed: the pack is three quarters unused.
 */
async function mostlyUnusedPack(opts: { budget?: boolean } = {}) {
  const { location } = await newStore({ packSize: 1024 * 1024 });
  const store = await openStore(location, {
    passphrase: PASSPHRASE,
    ...(opts.budget && { cacheDir: await tempDir(), indexMemoryBudget: 4096 }),
  });
  const src = join(await tempDir(), 'src');
  const files = Object.fromEntries(Array.from({ length: 40 }, (_, i) => [`f${i}`, randomBytes(10_000)]));
  await writeTree(src, files);
  const old = (await store.backup([src])).snapshot!.id;
  for (let i = 0; i < 30; i++) await rm(join(src, `f${i}`));
  const kept = (await store.backup([src])).snapshot!.id;
  await store.rm({ refs: [old] });
  return { store, location, src, kept, files, digest: await treeDigest(src) };
}

async function restoresWhole(store: Store, id: string, src: string, digest: unknown): Promise<void> {
  const to = await tempDir();
  expect((await store.restore(id, undefined, { to })).errors).toEqual([]);
  expect(await treeDigest(join(to, src))).toEqual(digest);
}

test.each([
  ['in memory', false],
  ['within a 4 KiB index budget (spilled)', true],
])(
  'a mostly unused pack is rewritten, then deleted after the grace period (%s); the kept snapshot restores',
  async (_, budget) => {
    const { store, location, src, kept, digest } = await mostlyUnusedPack({ budget });
    const dry = await store.prune({ dryRun: true, graceMs: 0 });
    // the data pack, and the metadata pack of the removed snapshot's tree
    expect(dry.repacked).toHaveLength(2);
    const data = dry.repacked.find((p) => p.size > 300_000)!;
    expect(data.liveBytes).toBeGreaterThanOrEqual(100_000);
    expect(data.liveBytes).toBeLessThan(data.size / 2);
    const before = await packBytes(location);
    const first = await store.prune({ graceMs: 0 });
    expect(first.repacked.map((p) => p.name)).toEqual(dry.repacked.map((p) => p.name));
    // data and metadata stay apart: one new pack each
    expect(first.packsWritten).toBe(2);
    // between the runs, the store is whole: the live blobs are in both packs
    expect((await store.check({ readData: true })).problems).toEqual([]);
    await restoresWhole(store, kept, src, digest);

    const second = await store.prune({ graceMs: 0 });
    expect(second.deleted.map((p) => p.name)).toEqual(
      expect.arrayContaining(dry.repacked.map((p) => p.name)),
    );
    expect(second.repacked).toEqual([]);
    // the 300 KB only the removed snapshot held are gone, the live 100 KB were written once more
    expect(before - (await packBytes(location))).toBeGreaterThan(250_000);
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.check({ readData: true })).problems).toEqual([]);
    await restoresWhole(reopened, kept, src, digest);
    expect(await reopened.prune({ graceMs: 0 })).toMatchObject({ deleted: [], planned: [], repacked: [] });
    await reopened.close();
    await store.close();
  },
);

test('--max-repack-size bounds the bytes rewritten in one run; a threshold above the unused share rewrites nothing', async () => {
  const { store } = await mostlyUnusedPack();
  expect((await store.prune({ dryRun: true, maxRepackBytes: 1000 })).repacked).toEqual([]);
  expect((await store.prune({ dryRun: true, repackThreshold: 0.9 })).repacked).toEqual([]);
  // the metadata pack fits 10 KB, the data pack does not
  expect((await store.prune({ dryRun: true, maxRepackBytes: 10_000 })).repacked).toHaveLength(1);
  expect((await store.prune({ dryRun: true, repackThreshold: 0.5 })).repacked).toHaveLength(2);
  await store.close();
});

test.each([1, 2, 3])(
  'backups running while prune repacks and deletes (seed %i) never lose a blob',
  async (seed) => {
    const random = new SeededRandom(seed, 'repack while backing up');
    const { store, location, src, files } = await mostlyUnusedPack();
    const writer = await openStore(location, { passphrase: PASSPHRASE });
    // the removed files come back while prune rewrites their pack: a backup must not rely on it
    let latest = '';
    for (let round = 0; round < 2; round++) {
      const back = random.int(0, 30);
      await writeTree(src, { [`f${back}`]: files[`f${back}`]!, [`new${round}`]: randomBytes(5000) });
      const backup = writer.backup([src]);
      await new Promise((done) => setTimeout(done, random.int(0, 120)));
      const [result] = await Promise.all([backup, store.prune({ graceMs: 0 })]);
      expect(result.errors).toEqual([]);
      latest = result.snapshot!.id;
    }
    await store.prune({ graceMs: 0 });
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.check({ readData: true })).problems).toEqual([]);
    await restoresWhole(reopened, latest, src, await treeDigest(src));
    await Promise.all([reopened.close(), writer.close(), store.close()]);
  },
);

test('a consolidated index larger than one delta is written as several, by ranges of blob IDs', async () => {
  const { store, location, kept } = await mostlyUnusedPack();
  const { repo } = store;
  await repo.refreshIndex({ fromStore: true });
  const blobs = repo.index.blobCount;
  await consolidateIndex(repo, repo.indexDeltas, repo.index, new Set(), 7);
  expect(await listFiles(join(location, 'index'))).toHaveLength(Math.ceil(blobs / 7));
  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect(reopened.repo.index.blobCount).toBe(blobs);
  expect((await reopened.snapshots()).map((s) => s.id)).toEqual([kept]);
  expect((await reopened.check({ readData: true })).problems).toEqual([]);
  await Promise.all([reopened.close(), store.close()]);
});
