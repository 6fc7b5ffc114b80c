/** prune deletes what only forgotten snapshots held, in two runs, and leaves every kept snapshot whole. */
import { randomBytes } from 'node:crypto';
import { readFile, rm, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, openStore } from '../../../../layers/kloset/index.js';
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

const PACK_SIZE = 64 * 1024;
/** the two-phase deletion alone: no pack is rewritten */
const NO_REPACK = { repackThreshold: 1 };

async function packBytes(location: string): Promise<number> {
  let total = 0;
  for (const f of await listFiles(join(location, 'packs')))
    total += (await stat(join(location, 'packs', f))).size;
  return total;
}

async function restoresWhole(store: Store, id: string, src: string, digest: unknown): Promise<void> {
  const to = await tempDir();
  expect((await store.restore(id, undefined, { to })).errors).toEqual([]);
  expect(await treeDigest(join(to, src))).toEqual(digest);
}

/** A store with `old` (a file only it holds) forgotten, and `kept` (shared and its own files). */
async function forgottenSnapshot() {
  const { store, location } = await newStore({ packSize: PACK_SIZE });
  const src = join(await tempDir(), 'src');
  const shared = randomBytes(100_000);
  const onlyOld = randomBytes(300_000);
  await writeTree(src, { shared, 'only-old.bin': onlyOld });
  const old = (await store.backup([src])).snapshot!.id;
  await rm(join(src, 'only-old.bin'));
  await writeTree(src, { 'only-kept.bin': randomBytes(200_000) });
  const kept = (await store.backup([src])).snapshot!.id;
  const digest = await treeDigest(src);
  await store.rm({ refs: [old] });
  return { store, location, src, old, kept, digest, onlyOld };
}

test('a first run plans, a run after the grace period deletes; kept snapshots restore and check passes', async () => {
  const { store, location, src, old, kept, digest } = await forgottenSnapshot();
  const before = await packBytes(location);

  const dry = await store.prune({ dryRun: true, graceMs: 0, ...NO_REPACK });
  expect(dry.deleted).toEqual([]);
  expect(dry.planned.length).toBeGreaterThan(0);
  expect(await listFiles(join(location, 'plans'))).toEqual([]);

  const first = await store.prune({ graceMs: 0, ...NO_REPACK });
  expect(first).toMatchObject({ deleted: [], waiting: 0 });
  expect(await packBytes(location)).toBe(before);
  const notYet = await store.prune({ graceMs: 3600_000, ...NO_REPACK });
  expect(notYet).toMatchObject({ deleted: [], planned: [], waiting: first.planned.length });

  const second = await store.prune({ graceMs: 0, ...NO_REPACK });
  expect(second.deleted.map((p) => p.name).sort()).toEqual(first.planned.map((p) => p.name).sort());
  const after = await packBytes(location);
  expect(before - after).toBe(second.freedBytes);
  // the 300 KB only the forgotten snapshot held, incompressible: at least that much is gone
  expect(second.freedBytes).toBeGreaterThanOrEqual(300_000);
  expect(await listFiles(join(location, 'plans'))).toEqual([]);
  expect(await listFiles(join(location, 'index'))).toHaveLength(1);

  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect((await reopened.snapshots()).map((s) => s.id)).toEqual([kept]);
  // sync reads removed snapshots' records: those stay
  expect(reopened.repo.index.has(Buffer.from(old, 'hex'))).toBe(true);
  await restoresWhole(reopened, kept, src, digest);
  expect((await reopened.check({ readData: true })).ok).toBe(true);
  expect(await reopened.prune({ graceMs: 0, ...NO_REPACK })).toMatchObject({
    deleted: [],
    planned: [],
    deltasReplaced: 0,
  });
});

test('many deltas become one: the open merges a single delta with every snapshot', async () => {
  const { store, location } = await newStore();
  const src = join(await tempDir(), 'src');
  for (let i = 0; i < 5; i++) {
    await writeTree(src, { [`f${i}`]: `file ${i}` });
    await store.backup([src]);
  }
  expect(await listFiles(join(location, 'index'))).toHaveLength(5);
  expect(await store.prune({ graceMs: 0 })).toMatchObject({ deltasReplaced: 5, deleted: [], planned: [] });
  expect(await listFiles(join(location, 'index'))).toHaveLength(1);
  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect(await reopened.snapshots()).toHaveLength(5);
  expect((await reopened.check({ readData: true })).ok).toBe(true);
});

test.each([1, 2, 3])(
  'a backup running while prune deletes (seed %i) does not reuse the planned blobs',
  async (seed) => {
    const { store, location, src, kept, onlyOld } = await forgottenSnapshot();
    await store.prune({ graceMs: 0 });
    // the forgotten content comes back: the backup must store it again, not point at the planned pack
    await writeTree(src, { 'only-old.bin': onlyOld });
    const writer = await openStore(location, { passphrase: PASSPHRASE });
    const backup = writer.backup([src]);
    await new Promise((done) => setTimeout(done, seed * 40));
    const [result] = await Promise.all([backup, store.prune({ graceMs: 0 })]);
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.snapshots()).map((s) => s.id).sort()).toEqual([kept, result.snapshot!.id].sort());
    await restoresWhole(reopened, result.snapshot!.id, src, await treeDigest(src));
    expect((await reopened.check({ readData: true })).ok).toBe(true);
    await reopened.prune({ graceMs: 0 });
    await reopened.prune({ graceMs: 0 });
    expect((await reopened.check({ readData: true })).ok).toBe(true);
  },
);

test('a damaged plan locks nobody out; prune removes it and plans afresh', async () => {
  const { store, location } = await forgottenSnapshot();
  const first = await store.prune({ graceMs: 0, ...NO_REPACK });
  const [plan] = await listFiles(join(location, 'plans'));
  const data = await readFile(join(location, 'plans', plan!));
  data[data.length - 1] ^= 1;
  await rm(join(location, 'plans', plan!));
  await writeFile(join(location, 'plans', plan!), data);

  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect(await reopened.snapshots()).toHaveLength(1);
  const again = await reopened.prune({ graceMs: 0, ...NO_REPACK });
  // the damaged plan counted for nothing: its packs are planned again, not deleted
  expect(again.deleted).toEqual([]);
  expect(again.planned.map((p) => p.name).sort()).toEqual(first.planned.map((p) => p.name).sort());
  expect(await listFiles(join(location, 'plans'))).toHaveLength(1);
  expect((await listFiles(join(location, 'plans')))[0]).not.toBe(plan);
});
