import { randomBytes } from 'node:crypto';
import { appendFile } from 'node:fs/promises';
import { join } from 'node:path';
import { jest } from '@jest/globals';
import { FastCdc } from '../../../../layers/kloset/chunker/fastcdc.js';
import { FsStore } from '../../../../layers/kloset/connectors/fs/fs-store.js';
import {
  type CreateOptions,
  Store,
  createStore,
  openStore,
  syncSnapshots,
} from '../../../../layers/kloset/index.js';
import { Repository } from '../../../../layers/kloset/repository/repository.js';
import { FailingStore } from '../safety/failing-store.js';
import {
  FAST_KDF,
  PASSPHRASE,
  failureOf,
  listFiles,
  newStore,
  removeTempDirs,
  tempDir,
  treeDigest,
  writeTree,
} from '../fixtures.js';

afterAll(removeTempDirs);

/** Small chunks, so that a few hundred KB make many of them. */
const SMALL_CHUNKS = { min: 8 * 1024, avg: 32 * 1024, max: 128 * 1024 };
const OTHER_PASSPHRASE = 'another passphrase for the other store';

/** A store with another passphrase than the fixtures' stores. */
async function otherStore(opts: Partial<CreateOptions> = {}) {
  const location = join(await tempDir('kloud-store-'), 'store');
  await createStore(location, {
    passphrase: OTHER_PASSPHRASE,
    kdf: FAST_KDF,
    chunking: SMALL_CHUNKS,
    ...opts,
  });
  return { location, store: await openStore(location, { passphrase: OTHER_PASSPHRASE }) };
}

async function source(files: Record<string, Buffer | string> = {}): Promise<string> {
  const src = join(await tempDir(), 'src');
  await writeTree(src, {
    'random.bin': randomBytes(300_000),
    'text.txt': 'the same line, again and again\n'.repeat(10_000),
    docs: { dir: { 'a.md': '# a\n', 'b.bin': randomBytes(200_000), link: { symlink: '../text.txt' } } },
    empty: { dir: {} },
    ...files,
  });
  return src;
}

/** Restores a snapshot of `store` and compares it with the directory it was taken of. */
async function expectRestoresAs(store: Store, id: string, src: string): Promise<void> {
  const to = await tempDir();
  const result = await store.restore(id, undefined, { to });
  expect(result.errors).toEqual([]);
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
}

async function expectSound(store: Store): Promise<void> {
  const report = await store.check({ readData: true });
  expect(report.problems).toEqual([]);
  expect(report.ok).toBe(true);
}

describe('sync', () => {
  test('a copy to a store with another passphrase and other chunking is re-chunked and restores the same', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore({ chunking: { min: 32 * 1024, avg: 128 * 1024, max: 512 * 1024 } });
    // incompressible content over many of B's chunks: stored raw, read from the chunker's window
    const src = await source({ 'large-random.bin': randomBytes(6_000_000) });
    const original = (await a.store.backup([src], { tags: ['daily'], hostname: 'h1' })).snapshot!;

    const result = await syncSnapshots(a.store, b.store);

    expect(result.skipped).toBe(0);
    expect(result.copied).toHaveLength(1);
    const [copy] = await b.store.snapshots();
    expect(result.copied[0]).toEqual({ from: original.id, to: copy!.id });
    expect(copy!.id).not.toBe(original.id);
    expect(copy).toMatchObject({
      time: original.time,
      hostname: 'h1',
      tags: ['daily'],
      sources: [src],
      summary: original.summary,
      origin: `${a.store.config.storeId}:${original.id}`,
    });
    await expectRestoresAs(b.store, copy!.id, src);
    await expectSound(b.store);
    // the content was cut by B's chunker: bigger chunks, fewer of them
    const [infoA, infoB] = await Promise.all([a.store.info(), b.store.info()]);
    expect(infoB.blobs.data).toBeLessThan(infoA.blobs.data);
    expect(infoB.uniqueBytes).toBe(infoA.uniqueBytes);
  });

  test('stores with the same chunking copy blobs one for one, without running the chunker', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore({ chunking: a.store.config.chunking });
    expect(b.store.config.chunking).toEqual(a.store.config.chunking);
    const src = await source();
    await a.store.backup([src]);

    const cut = jest.spyOn(FastCdc.prototype, 'cut');
    try {
      await syncSnapshots(a.store, b.store);
      expect(cut).not.toHaveBeenCalled();
    } finally {
      cut.mockRestore();
    }

    const [infoA, infoB] = await Promise.all([a.store.info(), b.store.info()]);
    expect(infoB.blobs.data).toBe(infoA.blobs.data);
    expect(infoB.uniqueBytes).toBe(infoA.uniqueBytes);
    await expectRestoresAs(b.store, 'latest', src);
  });

  test("the destination's compression and encryption apply to what it receives", async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const plainLocation = join(await tempDir(), 'plain');
    await createStore(plainLocation, { plaintext: true, compression: 'none', chunking: SMALL_CHUNKS });
    const plain = await openStore(plainLocation);
    const zstd = await otherStore();
    const src = await source({ 'more.txt': 'compressible '.repeat(50_000) });
    await a.store.backup([src]);

    await syncSnapshots(a.store, plain);
    await syncSnapshots(plain, zstd.store);

    const [infoA, infoPlain, infoZstd] = await Promise.all([a.store.info(), plain.info(), zstd.store.info()]);
    expect(infoPlain.encryption).toBe('none');
    // zstd shrinks the text files several times; stored raw they take their full size
    expect(infoA.compressionRatio).toBeGreaterThan(1.5);
    expect(infoPlain.compressionRatio).toBeLessThan(1.01);
    expect(infoZstd.compressionRatio).toBeGreaterThan(1.5);
    await expectRestoresAs(zstd.store, 'latest', src);
    await expectSound(zstd.store);
  });

  test('a second sync copies nothing and writes nothing', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const src = await source();
    await a.store.backup([src]);
    await a.store.backup([src], { tags: ['again'] });
    expect((await syncSnapshots(a.store, b.store)).copied).toHaveLength(2);
    const before = await listFiles(b.location);

    const again = await syncSnapshots(a.store, b.store);

    expect(again).toEqual({
      copied: [],
      skipped: 2,
      bytesRead: 0,
      newBytes: 0,
      storedBytes: 0,
      warnings: [],
    });
    expect(await listFiles(b.location)).toEqual(before);
  });

  test('data the destination holds already is not added again', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const shared = randomBytes(400_000);
    const src = await source({ 'shared.bin': shared });
    await a.store.backup([src]);
    // B backed up the same file itself, and chunks it the way a sync into B does
    const own = join(await tempDir(), 'own');
    await writeTree(own, { 'copy-of-shared.bin': shared });
    await b.store.backup([own]);
    // a store that chunks like B and holds nothing yet
    const full = await otherStore({ chunking: b.store.config.chunking });

    const partial = await syncSnapshots(a.store, b.store);
    const whole = await syncSnapshots(a.store, full.store);

    expect(partial.bytesRead).toBe(whole.bytesRead);
    expect(whole.newBytes - partial.newBytes).toBe(shared.length);
    await expectRestoresAs(b.store, partial.copied[0]!.to, src);
  });

  test('removed snapshots are not synced, and one removed from the destination is not brought back', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const src = await source();
    const gone = (await a.store.backup([src], { tags: ['gone'] })).snapshot!;
    const kept = (await a.store.backup([src], { tags: ['kept'] })).snapshot!;
    await a.store.rm({ refs: [gone.id] });

    const first = await syncSnapshots(a.store, b.store);
    expect(first.copied.map((c) => c.from)).toEqual([kept.id]);
    expect((await b.store.snapshots()).map((s) => s.tags)).toEqual([['kept']]);

    await b.store.rm({ refs: ['latest'] });
    const second = await syncSnapshots(a.store, b.store);
    expect(second).toMatchObject({ copied: [], skipped: 1 });
    expect(await b.store.snapshots()).toEqual([]);
  });

  test('both ways: each store gets the other\u2019s snapshots once, and copies never come back', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const srcA = await source();
    const srcB = await source();
    const fromA = (await a.store.backup([srcA])).snapshot!;
    const fromB = (await b.store.backup([srcB])).snapshot!;

    const there = await syncSnapshots(a.store, b.store);
    const back = await syncSnapshots(b.store, a.store);

    expect(there).toMatchObject({ skipped: 0, copied: [{ from: fromA.id }] });
    // B's copy of A's snapshot is A's own: only B's snapshot travels back
    expect(back).toMatchObject({ skipped: 1, copied: [{ from: fromB.id }] });
    const [inA, inB] = await Promise.all([a.store.snapshots(), b.store.snapshots()]);
    expect(inA).toHaveLength(2);
    expect(inB).toHaveLength(2);
    expect(inA.find((s) => s.id !== fromA.id)!.origin).toBe(`${b.store.config.storeId}:${fromB.id}`);
    const third = [await syncSnapshots(a.store, b.store), await syncSnapshots(b.store, a.store)];
    expect(third.map((r) => r.copied.length)).toEqual([0, 0]);
    await expectRestoresAs(a.store, back.copied[0]!.to, srcB);
  });

  test('a parent already synced is kept, and what did not change since it is not read again', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const src = await source();
    const first = (await a.store.backup([src])).snapshot!;
    await appendFile(join(src, 'docs', 'a.md'), 'one more line\n');
    const second = (await a.store.backup([src])).snapshot!;
    expect(second.parent).toBe(first.id);

    const one = await syncSnapshots(a.store, b.store, { snapshots: [first.id.slice(0, 8)] });
    const rest = await syncSnapshots(a.store, b.store);

    expect(one.copied.map((c) => c.from)).toEqual([first.id]);
    expect(one.bytesRead).toBe(first.summary.bytes);
    expect(rest).toMatchObject({ skipped: 1, copied: [{ from: second.id }] });
    // only the changed file was read
    expect(rest.bytesRead).toBe('# a\none more line\n'.length);
    const copy = (await b.store.snapshots())[0]!;
    expect(copy.parent).toBe(one.copied[0]!.to);
    await expectRestoresAs(b.store, copy.id, src);
  });

  test('named snapshots are copied oldest first; a parent the destination lacks is dropped', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const b = await otherStore();
    const src = await source();
    const ids: string[] = [];
    for (const line of ['one\n', 'two\n', 'three\n']) {
      await appendFile(join(src, 'text.txt'), line);
      ids.push((await a.store.backup([src])).snapshot!.id);
    }

    const result = await syncSnapshots(a.store, b.store, { snapshots: [ids[0]!.slice(0, 10), 'latest'] });

    expect(result.copied.map((c) => c.from)).toEqual([ids[0], ids[2]]);
    const copies = await b.store.snapshots();
    // the newest one's parent (the second snapshot) was not copied
    expect(copies.map((s) => s.parent)).toEqual([undefined, undefined]);
  });

  test('an interrupted sync leaves no partial snapshot; the next run reuses its packs and completes', async () => {
    const a = await newStore({ chunking: SMALL_CHUNKS });
    const { location } = await otherStore({ packSize: 64 * 1024, compression: 'none' });
    const backend = new FailingStore(new FsStore(location));
    const b = new Store(await Repository.open(backend, { passphrase: OTHER_PASSPHRASE }));
    const src = await source({ 'big.bin': randomBytes(1_000_000) });
    const first = (await a.store.backup([src])).snapshot!;
    await appendFile(join(src, 'text.txt'), 'changed\n');
    const second = (await a.store.backup([src])).snapshot!;
    // the same sync into a store that chunks like B, uninterrupted
    const twin = await otherStore({ packSize: 64 * 1024, chunking: b.config.chunking });
    const full = await syncSnapshots(a.store, twin.store);

    backend.failing = { kinds: ['packs'], after: 8, code: 'ENOSPC' };
    await expect(syncSnapshots(a.store, b)).rejects.toMatchObject({ code: 'IO' });
    expect(await b.snapshots()).toEqual([]);
    backend.failing = undefined;
    // which 8 packs were written before the failure depends on the uploads' timing (data or
    // metadata, full or not): measure them rather than assume their size
    let left = 0;
    for await (const pack of backend.list('packs')) left += pack.size;
    expect(left).toBeGreaterThan(2 * 64 * 1024);

    const resumed = await syncSnapshots(a.store, b);
    expect(resumed.copied.map((c) => c.from)).toEqual([first.id, second.id]);
    // the packs uploaded before the failure were adopted instead of written again (give or take
    // a pack: the resumed run's packs are cut at other boundaries)
    expect(resumed.newBytes).toBeLessThanOrEqual(full.newBytes - left + 64 * 1024);
    await expectSound(b);
    await expectRestoresAs(b, resumed.copied[1]!.to, src);
  });

  test('a store cannot sync with itself', async () => {
    const a = await newStore();
    const again = await openStore(a.location, { passphrase: PASSPHRASE });
    const err = await failureOf(syncSnapshots(a.store, again));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toMatch(/are the same store/);
  });

  test('unknown snapshot references are refused before anything is copied', async () => {
    const a = await newStore();
    const b = await otherStore();
    await a.store.backup([await source()]);
    const err = await failureOf(syncSnapshots(a.store, b.store, { snapshots: ['latest', 'abcdef12'] }));
    expect(err.code).toBe('SNAPSHOT_NOT_FOUND');
    expect(await b.store.snapshots()).toEqual([]);
  });
});
