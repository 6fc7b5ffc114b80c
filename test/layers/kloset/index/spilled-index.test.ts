import { randomBytes } from 'node:crypto';
import fc from 'fast-check';
import { readFileSync, readdirSync, readlinkSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';
import { BlobType, PackKind } from '../../../../layers/kloset/format/blob.js';
import { type Store, openStore } from '../../../../layers/kloset/index.js';
import type { BlobIndex } from '../../../../layers/kloset/index/blob-index.js';
import { BudgetedMerge } from '../../../../layers/kloset/index/budgeted-merge.js';
import {
  type BlobLocation,
  type BlobRecord,
  IndexTable,
  type PackInfo,
} from '../../../../layers/kloset/index/index-table.js';
import { sealIndexTable } from '../../../../layers/kloset/index/index-delta.js';
import { SpilledIndex } from '../../../../layers/kloset/index/spilled-index.js';
import {
  PASSPHRASE,
  type Spec,
  failureOf,
  listFiles,
  newStore,
  removeTempDirs,
  tempDir,
  treeDigest,
  writeTree,
} from '../fixtures.js';

afterAll(removeTempDirs);

function packs(n: number): PackInfo[] {
  return Array.from({ length: n }, () => ({
    name: randomBytes(32).toString('hex'),
    kind: PackKind.Data,
    size: 1 << 20,
  }));
}

/** A delta of `n` random blobs over `packCount` packs, plus copies of `dups` (other locations). */
function delta(n: number, packList: PackInfo[], dups: readonly BlobRecord[] = []): IndexTable {
  const ids = randomBytes(n * 32);
  const records: BlobRecord[] = Array.from({ length: n }, (_, i) => ({
    id: ids.subarray(i * 32, i * 32 + 32),
    type: i % 7 === 0 ? BlobType.Tree : BlobType.Data,
    packNo: i % packList.length,
    offset: 8 + i * 100,
    length: 100 + (i % 50),
    rawLength: 150 + i,
  }));
  for (const d of dups) records.push({ ...d, offset: d.offset + 1, packNo: 0 });
  return IndexTable.fromRecords(packList, records, [randomBytes(32).toString('hex')]);
}

function recordsOf(t: IndexTable, every: number): BlobRecord[] {
  const out: BlobRecord[] = [];
  let i = 0;
  for (const b of t.blobs()) {
    if (i++ % every === 0) out.push({ ...b, packNo: t.packs.indexOf(b.pack) });
  }
  return out;
}

function mergeWithin(tables: readonly IndexTable[], dir: string, budget: number): IndexTable | SpilledIndex {
  const merge = new BudgetedMerge(dir, budget);
  for (const t of tables) merge.add(t);
  return merge.finish();
}

/** Compares two indexes on every ID both hold, on random misses, and on a full scan. */
function expectSameIndex(actual: BlobIndex, expected: IndexTable, extraIds: readonly Buffer[]): void {
  expect(actual.blobCount).toBe(expected.blobCount);
  expect(actual.packs.map((p) => p.name)).toEqual(expected.packs.map((p) => p.name));
  expect([...actual.snapshots].sort()).toEqual([...expected.snapshots].sort());
  const describe = (l: BlobLocation | undefined): string =>
    l ? `${l.id.toString('hex')} ${l.type} ${l.pack.name} ${l.offset} ${l.length} ${l.rawLength}` : '-';
  const scanned = [...actual.blobs()].map(describe);
  const want = [...expected.blobs()];
  expect(scanned).toEqual(want.map(describe));
  const probes = [...want.filter((_, i) => i % 3 === 0).map((b) => b.id), ...extraIds];
  for (let i = 0; i < 5000; i++) probes.push(randomBytes(32));
  const wrong = probes.filter(
    (id) => actual.has(id) !== expected.has(id) || describe(actual.find(id)) !== describe(expected.find(id)),
  );
  expect(wrong.map((id) => id.toString('hex'))).toEqual([]);
}

/** Spill files this process holds open: unlinked, so only /proc still names them. */
function openSpillFiles(): string[] {
  const out: string[] = [];
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (/\/spill-[0-9a-f]+ \(deleted\)$/.test(readlinkSync(`/proc/self/fd/${fd}`)))
        out.push(`/proc/self/fd/${fd}`);
    } catch {
      // closed meanwhile (the readdir's own descriptor)
    }
  }
  return out;
}

describe('index within a memory budget', () => {
  test('a small budget spills, and the spilled index answers exactly as the in-memory merge', async () => {
    const dir = await tempDir();
    const p1 = packs(5);
    const p2 = packs(3);
    const a = delta(20_000, p1);
    const b = delta(15_000, p2, recordsOf(a, 50));
    const c = delta(10_000, [...p1.slice(0, 2), ...packs(2)], recordsOf(b, 40));
    const spilled = mergeWithin([a, b, c], dir, 64 * 1024);
    expect(spilled instanceof SpilledIndex).toBe(true);
    expectSameIndex(spilled, IndexTable.merge([a, b, c]), []);
    expect(readdirSync(`${dir}`)).toEqual([]);
    spilled.close();
  });

  test('many deltas and a budget of a few pages merge in several passes', async () => {
    const dir = await tempDir();
    const tables = Array.from({ length: 30 }, (_, i) => delta(1000 + i * 50, packs(2)));
    const spilled = mergeWithin(tables, dir, 40 * 1024);
    expectSameIndex(spilled, IndexTable.merge(tables), []);
    spilled.close();
  });

  test('a spilled index merges with new deltas; a budget the table fits keeps it in memory', async () => {
    const dir = await tempDir();
    const a = delta(30_000, packs(4));
    const b = delta(500, packs(1), recordsOf(a, 100));
    const spilledA = mergeWithin([a], dir, 64 * 1024) as SpilledIndex;
    expect(spilledA instanceof SpilledIndex).toBe(true);
    const merge = new BudgetedMerge(dir, 64 * 1024);
    merge.add(spilledA);
    merge.add(b);
    const next = merge.finish();
    expectSameIndex(next, IndexTable.merge([a, b]), []);
    expect(mergeWithin([b, delta(100, packs(1))], dir, 1 << 20) instanceof IndexTable).toBe(true);
    spilledA.close();
    next.close();
  });

  test('spilled pages hold no blob ID in clear', async () => {
    const dir = await tempDir();
    const a = delta(5000, packs(2));
    const before = new Set(openSpillFiles());
    const spilled = mergeWithin([a], dir, 16 * 1024);
    const files = openSpillFiles().filter((f) => !before.has(f));
    expect(files).toHaveLength(1);
    const bytes = readFileSync(files[0]!);
    expect(bytes.length).toBeGreaterThan(5000 * 49);
    for (const r of recordsOf(a, 97)) expect(bytes.includes(r.id)).toBe(false);
    spilled.close();
    expect(openSpillFiles().filter((f) => !before.has(f))).toEqual([]);
  });

  test('500k blobs within a 1 MiB budget hold about the budget, not the 26 MB of the table', async () => {
    setFlagsFromString('--expose-gc');
    const gc = runInNewContext('gc') as () => void;
    const dir = await tempDir();
    const budget = 1 << 20;
    // array buffers are released after the collection that finds them dead: give it a few turns
    const used = async (): Promise<number> => {
      for (let i = 0; i < 3; i++) {
        gc();
        await new Promise((r) => setTimeout(r, 20));
      }
      const m = process.memoryUsage();
      return m.heapUsed + m.arrayBuffers;
    };
    const baseline = await used();
    // the deltas live only in this scope: the spilled index must not keep them
    const { spilled, probes } = ((): { spilled: SpilledIndex; probes: Buffer[] } => {
      const tables = Array.from({ length: 10 }, () => delta(50_000, packs(64)));
      const ids = tables.flatMap((t) => recordsOf(t, 250).map((r) => Buffer.from(r.id)));
      return { spilled: mergeWithin(tables, dir, budget) as SpilledIndex, probes: ids };
    })();
    for (const id of probes) expect(spilled.has(id)).toBe(true);
    for (let i = 0; i < 20_000; i++) spilled.has(randomBytes(32));
    const held = (await used()) - baseline;
    expect(spilled.blobCount).toBe(500_000);
    expect(spilled.memoryBytes).toBeLessThanOrEqual(budget + 64 * 1024);
    expect(held).toBeLessThan(budget * 2);
    spilled.close();
  });
});

describe('a store opened with an index memory budget', () => {
  /** Writes a delta of `n` synthetic records (packs that do not exist: the index alone is read). */
  async function addDelta(store: Store, n: number, dups: readonly BlobRecord[] = []): Promise<IndexTable> {
    const table = delta(n, packs(8), dups);
    const sealed = await sealIndexTable(table, store.repo.cipher, store.repo.mac.authenticator);
    await store.repo.backend.put('index', sealed.name, sealed.parts);
    return table;
  }

  test('answers like the in-memory index, from an empty cache dir, and after new deltas', async () => {
    const { location, store } = await newStore();
    const a = await addDelta(store, 20_000);
    await addDelta(store, 15_000, recordsOf(a, 30));
    const cacheDir = join(await tempDir(), 'not-yet-created');
    const budgeted = await openStore(location, {
      passphrase: PASSPHRASE,
      cacheDir,
      indexMemoryBudget: 64 * 1024,
    });
    const plain = await openStore(location, { passphrase: PASSPHRASE });
    expect(budgeted.repo.index instanceof SpilledIndex).toBe(true);
    expectSameIndex(budgeted.repo.index, plain.repo.index as IndexTable, []);

    const before = openSpillFiles().length;
    await addDelta(store, 5000, recordsOf(a, 7));
    await budgeted.repo.refreshIndex();
    await plain.repo.refreshIndex();
    expectSameIndex(budgeted.repo.index, plain.repo.index as IndexTable, []);
    // the replaced index's file is closed by the refresh, not left to the garbage collector
    expect(openSpillFiles().length).toBe(before);
    // nothing in clear, nothing left behind: the spill file is unlinked as soon as it is opened
    expect(await listFiles(cacheDir)).toEqual([]);
    await budgeted.close();
    expect(openSpillFiles().length).toBe(before - 1);
    await plain.close();
    await store.close();
  });

  test('backup, dedup, restore and check work through a spilled index', async () => {
    const { location, store: creator } = await newStore();
    await creator.close();
    const cacheDir = await tempDir();
    const store = await openStore(location, {
      passphrase: PASSPHRASE,
      cacheDir,
      indexMemoryBudget: 8 * 1024,
    });
    const spec: Record<string, Spec> = {};
    for (let i = 0; i < 300; i++) spec[`f${i}`] = randomBytes(100 + i);
    const src = join(await tempDir(), 'src');
    await writeTree(src, { a: { dir: spec }, b: { dir: { same: spec.f1! } } });
    const first = await store.backup([src]);
    expect(first.errors).toEqual([]);
    expect(store.repo.index instanceof SpilledIndex).toBe(true);

    // the same content under another path: every chunk is found by has() in the spilled index
    const copy = join(await tempDir(), 'copy');
    await writeTree(copy, { a: { dir: spec } });
    const before = store.repo.index.blobCount;
    expect((await store.backup([copy])).errors).toEqual([]);
    expect(store.repo.index.blobCount - before).toBeLessThan(10);

    const to = await tempDir();
    const restored = await store.restore(first.snapshot!.id, undefined, { to });
    expect(restored.errors).toEqual([]);
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
    const report = await store.check({ readData: true });
    expect(report.problems).toEqual([]);
    expect(report.ok).toBe(true);
    await store.close();
  });

  test('a budget needs a cache dir and a positive size', async () => {
    const { location, store } = await newStore();
    await store.close();
    const open = (o: object): Promise<unknown> => openStore(location, { passphrase: PASSPHRASE, ...o });
    expect((await failureOf(open({ indexMemoryBudget: 1 << 20 }))).code).toBe('INVALID_ARGUMENT');
    const cacheDir = await tempDir();
    expect((await failureOf(open({ cacheDir, indexMemoryBudget: 0 }))).code).toBe('INVALID_ARGUMENT');
  });

  test('a cache dir it cannot write to is an IO error naming the directory', async () => {
    const { location, store } = await newStore();
    await addDelta(store, 2000);
    await store.close();
    const cacheDir = join(await tempDir(), 'a-file');
    await writeFile(cacheDir, 'not a directory');
    const err = await failureOf(
      openStore(location, { passphrase: PASSPHRASE, cacheDir, indexMemoryBudget: 4096 }),
    );
    expect(err.code).toBe('IO');
    expect(err.message).toContain('cannot spill the index to');
  });
});

describe('positions of many IDs at once', () => {
  /**
   * IDs whose first 4 bytes come from a handful of values: many share a prefix, also across
   * page boundaries, where the fence must compare whole IDs.
   */
  const idArb = fc
    .tuple(fc.integer({ min: 0, max: 5 }), fc.uint8Array({ minLength: 28, maxLength: 28 }))
    .map(([prefix, rest]) => {
      const id = Buffer.alloc(32);
      id.writeUInt32BE(prefix * 0x10000000, 0);
      Buffer.from(rest).copy(id, 4);
      return id;
    });

  test('positionsOf answers what position answers for each ID: the rank in ID order, or -1', async () => {
    const dir = await tempDir();
    await fc.assert(
      fc.asyncProperty(
        fc.uniqueArray(idArb, { minLength: 400, maxLength: 1500, selector: (id) => id.toString('hex') }),
        fc.array(idArb, { maxLength: 200 }),
        fc.integer({ min: 0, max: 3 }),
        async (ids, misses, dupEvery) => {
          const packList = packs(3);
          const records = ids.map((id, i) => ({
            id,
            type: BlobType.Data,
            packNo: i % 3,
            offset: i,
            length: 10,
            rawLength: 10,
          }));
          const table = IndexTable.fromRecords(packList, records);
          const rank = new Map([...table.blobs()].map((b, i) => [b.id.toString('hex'), i]));
          // probes in random order, with repeats and IDs that are not indexed
          const probes = [...ids.filter((_, i) => dupEvery > 0 && i % dupEvery === 0), ...misses, ...ids]
            .map((id, i) => ({ id, key: (i * 2654435761) % 4093 }))
            .sort((a, b) => a.key - b.key)
            .map((p) => p.id);
          const want = probes.map((id) => rank.get(id.toString('hex')) ?? -1);
          const spilled = mergeWithin([table], dir, 8 * 1024);
          expect(spilled instanceof SpilledIndex).toBe(true);
          try {
            for (const index of [table, spilled]) {
              expect([...index.positionsOf(Buffer.concat(probes))]).toEqual(want);
              expect(probes.map((id) => index.position(id))).toEqual(want);
            }
          } finally {
            spilled.close();
          }
        },
      ),
      { numRuns: 60 },
    );
  });
});
