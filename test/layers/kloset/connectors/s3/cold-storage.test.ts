/** Stores whose data packs are in GLACIER or DEEP_ARCHIVE, against s3rver behind archive-proxy.ts. */
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { S3Store } from '../../../../../layers/kloset/connectors/s3/s3-store.js';
import { PackKind } from '../../../../../layers/kloset/format/blob.js';
import { type Store, createStore, openStore } from '../../../../../layers/kloset/index.js';
import {
  FAST_KDF,
  PASSPHRASE,
  type Spec,
  failureOf,
  tempDir,
  treeDigest,
  writeTree,
} from '../../fixtures.js';
import { type ArchiveProxy, type ProxiedRequest, startArchiveProxy } from './archive-proxy.js';
import { awsCli, s3rverForTests } from './s3rver.js';
import { parseLocation, type S3Location } from '../../../../../layers/kloset/core/location.js';

const BUCKET = 'kloud-cold';
const s3 = s3rverForTests([BUCKET]);
let proxy: ArchiveProxy;
beforeAll(async () => {
  proxy = await startArchiveProxy(s3.server);
});
afterAll(async () => {
  await proxy?.close();
});

const HOUR = 3_600_000;
const KIB = 1024;

/**
 * A store in `storageClass` with 64 KiB packs, so each file of 100 KiB or more (one chunk, as
 * chunks are at least 512 KiB) gets a data pack of its own; `spec` is backed up once.
 */
async function coldStore(
  prefix: string,
  spec: Record<string, Spec>,
  storageClass = 'GLACIER',
): Promise<{ store: Store; src: string; snapshot: string; location: string }> {
  const location = `s3://${BUCKET}/${prefix}`;
  const options = { ...proxy.options, storage_class: storageClass };
  await createStore(parseLocation(location, options), {
    passphrase: PASSPHRASE,
    kdf: FAST_KDF,
    packSize: 64 * KIB,
  });
  const src = join(await tempDir(), 'src');
  await writeTree(src, spec);
  const store = await openStore(parseLocation(location, options), { passphrase: PASSPHRASE });
  const result = await store.backup([src]);
  expect(result.errors).toEqual([]);
  return { store, src, snapshot: result.snapshot!.id, location };
}

function packKey(store: Store, name: string): string {
  return (store.repo.backend as S3Store).key('packs', name);
}

function dataPackKeys(store: Store): Set<string> {
  const data = store.repo.index.packs.filter((p) => p.kind === PackKind.Data);
  return new Set(data.map((p) => packKey(store, p.name)));
}

/** What the proxy saw from `from` on, filtered. */
function seenSince(from: number, keep: (r: ProxiedRequest) => boolean): ProxiedRequest[] {
  return proxy.requests.slice(from).filter(keep);
}

const TREE: Record<string, Spec> = {
  'notes.txt': 'small enough to share a pack',
  a: { dir: { 'one.bin': randomBytes(100 * KIB), 'two.bin': randomBytes(120 * KIB) } },
  b: { dir: { 'three.bin': randomBytes(110 * KIB), link: { symlink: '../notes.txt' } } },
};

describe('stores with data packs in archive storage', () => {
  test('only data packs go to GLACIER; ls, diff, info and check read none of them', async () => {
    const { store, src, snapshot, location } = await coldStore('browse', TREE);
    try {
      const prefix = location.slice(`s3://${BUCKET}/`.length);
      const data = dataPackKeys(store);
      expect(data.size).toBeGreaterThanOrEqual(3);

      // the AWS CLI sees each object's class: GLACIER for data packs, STANDARD for the rest
      const listing = (await awsCli(proxy.endpoint, [
        'list-objects-v2',
        '--bucket',
        BUCKET,
        '--prefix',
        prefix,
      ])) as {
        Contents: { Key: string; StorageClass: string }[];
      };
      const classes = new Map(listing.Contents.map((o) => [o.Key, o.StorageClass]));
      expect(classes.size).toBeGreaterThan(data.size + 2);
      for (const [key, storageClass] of classes)
        expect([key, storageClass]).toEqual([key, data.has(key) ? 'GLACIER' : 'STANDARD']);
      // ...and s3rver itself stored the class kloud asked for
      const head = (await awsCli(s3.server.endpoint, [
        'head-object',
        '--bucket',
        BUCKET,
        '--key',
        [...data][0]!,
      ])) as {
        StorageClass: string;
      };
      expect(head.StorageClass).toBe('GLACIER');

      await writeTree(src, { 'notes.txt': 'changed' });
      const second = (await store.backup([src])).snapshot!.id;
      const from = proxy.requests.length;
      expect((await store.ls(snapshot, `${src}/a`)).map((e) => e.name)).toEqual(['one.bin', 'two.bin']);
      const changes = [];
      for await (const c of store.diff({ ref: snapshot }, { ref: second })) changes.push(c);
      expect(changes).toContainEqual({ path: `${src}/notes.txt`, change: 'modified', type: 'file' });
      expect((await store.info()).packs.data).toBe(dataPackKeys(store).size);
      const report = await store.check();
      expect(report.problems).toEqual([]);
      expect(report.notes).toContain(
        `${dataPackKeys(store).size} pack(s) in archive storage: only their sizes were checked (check --read-data reads them once retrieved)`,
      );
      const touched = seenSince(from, (r) => dataPackKeys(store).has(r.key) && r.method === 'GET');
      expect(touched).toEqual([]);
    } finally {
      await store.close();
    }
  });

  test('restore asks once for the packs it needs, then restores from the retrieved copies', async () => {
    const { store, src, snapshot } = await coldStore('restore', TREE);
    try {
      const data = dataPackKeys(store);
      const bytes = store.repo.index.packs
        .filter((p) => p.kind === PackKind.Data)
        .reduce((n, p) => n + p.size, 0);
      const from = proxy.requests.length;

      const first = await store.retrieval(snapshot, undefined);
      expect(first).toMatchObject({
        needed: data.size,
        bytes,
        ready: 0,
        requested: data.size,
        pending: data.size,
      });
      expect(first.archives).toEqual(['GLACIER']);
      expect(first.estimate.hours).toEqual([3, 5]);
      expect(first.estimate.costUsd).toBeCloseTo((bytes / 1024 ** 3) * 0.01 + (data.size / 1000) * 0.05, 10);
      const restores = seenSince(from, (r) => r.action === 'restore');
      expect(new Set(restores.map((r) => r.key))).toEqual(data);
      expect(restores.map((r) => [r.tier, r.days, r.status])).toEqual(
        [...data].map(() => ['Standard', 7, 202]),
      );

      // not readable yet: the restore names the archive
      const early = await store.restore(snapshot, undefined, { to: await tempDir() });
      expect(early.errors.length).toBeGreaterThan(0);
      expect(early.errors[0]!.message).toMatch(/ is in GLACIER and has not been retrieved$/);

      const again = await store.retrieval(snapshot, undefined);
      expect(again).toMatchObject({ needed: data.size, ready: 0, requested: 0, pending: data.size });
      expect(again.estimate.costUsd).toBe(0);
      expect(seenSince(from, (r) => r.action === 'restore')).toHaveLength(data.size);

      proxy.advance(proxy.restoreDelayMs);
      expect(await store.retrieval(snapshot, undefined)).toMatchObject({
        ready: data.size,
        requested: 0,
        pending: 0,
      });
      const to = await tempDir();
      const restored = await store.restore(snapshot, undefined, { to });
      expect(restored.errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
    } finally {
      await store.close();
    }
  });

  test("a path's restore asks only for the packs holding that path's files", async () => {
    const { store, src, snapshot } = await coldStore('one-path', {
      a: { dir: { 'one.bin': randomBytes(100 * KIB), 'two.bin': randomBytes(120 * KIB) } },
      b: { dir: { 'three.bin': randomBytes(110 * KIB) } },
    });
    try {
      expect(dataPackKeys(store).size).toBe(3);
      const from = proxy.requests.length;
      expect(await store.retrieval(snapshot, `${src}/a`)).toMatchObject({ needed: 2, requested: 2 });
      expect(await store.retrieval(snapshot, `${src}/a/two.bin`)).toMatchObject({ needed: 1, requested: 0 });
      proxy.advance(proxy.restoreDelayMs);
      const to = await tempDir();
      expect((await store.restore(snapshot, `${src}/a`, { to })).errors).toEqual([]);
      expect(await treeDigest(join(to, 'a'))).toEqual(await treeDigest(join(src, 'a')));
      expect((await store.restore(snapshot, `${src}/b`, { to })).errors).toHaveLength(1);

      expect(await store.retrieval(snapshot, `${src}/b`)).toMatchObject({
        needed: 1,
        requested: 1,
        pending: 1,
      });
      expect(await store.retrieval(snapshot, undefined)).toMatchObject({
        needed: 3,
        ready: 2,
        requested: 0,
        pending: 1,
      });
      expect(seenSince(from, (r) => r.action === 'restore')).toHaveLength(3);
    } finally {
      await store.close();
    }
  });

  test('waiting polls with doubling pauses until the copies are readable, or until the deadline', async () => {
    const { store, snapshot } = await coldStore('wait', { 'big.bin': randomBytes(100 * KIB) });
    let clock = 0;
    const sleeps: number[] = [];
    const clockOptions = {
      now: () => clock,
      sleep: async (ms: number) => {
        sleeps.push(ms);
        clock += ms;
        proxy.advance(ms);
      },
    };
    try {
      const saved = proxy.restoreDelayMs;
      proxy.restoreDelayMs = 10_000;
      const seen: number[] = [];
      const done = await store.waitForRetrieval(snapshot, undefined, {
        ...clockOptions,
        onPoll: (s) => seen.push(s.pending),
      });
      expect(done).toMatchObject({ needed: 1, ready: 1, requested: 1, pending: 0 });
      expect(sleeps).toEqual([1000, 2000, 4000, 8000]);
      expect(seen).toEqual([1, 1, 1, 0]);

      // a retrieval that outlasts the deadline gives up with the retrieval still pending
      const { store: slow, snapshot: slowSnapshot } = await coldStore('wait-deadline', {
        'x.bin': randomBytes(100 * KIB),
      });
      proxy.restoreDelayMs = 10 * HOUR;
      sleeps.length = 0;
      try {
        const late = await slow.waitForRetrieval(slowSnapshot, undefined, {
          ...clockOptions,
          tier: 'bulk',
          timeoutMs: 5000,
        });
        expect(late).toMatchObject({ needed: 1, pending: 1, requested: 1 });
        expect(late.estimate.hours).toEqual([5, 12]);
        expect(late.estimate.costUsd).toBe(0);
        expect(sleeps).toEqual([1000, 2000, 2000]);
      } finally {
        proxy.restoreDelayMs = saved;
        await slow.close();
      }
    } finally {
      await store.close();
    }
  });

  test('check --read-data refuses until every data pack is retrieved, then reads them all', async () => {
    const { store, snapshot, location } = await coldStore('read-data', TREE);
    try {
      const packs = dataPackKeys(store).size;
      const from = proxy.requests.length;
      const refused = await failureOf(store.check({ readData: true }));
      expect(refused.code).toBe('ARCHIVED');
      expect(refused.message).toBe(
        `reading all data needs every pack, and ${packs} pack(s) of ${location} are in GLACIER and not retrieved`,
      );
      expect(seenSince(from, (r) => r.method === 'GET' && dataPackKeys(store).has(r.key))).toEqual([]);

      await store.retrieval(snapshot, undefined);
      const pending = await failureOf(store.check({ readData: true }));
      expect(pending.message).toMatch(
        / are in GLACIER and not retrieved \(\d+ retrieval\(s\) in progress\)$/,
      );
      proxy.advance(proxy.restoreDelayMs);
      const report = await store.check({ readData: true });
      expect(report.problems).toEqual([]);
      expect(report.stats.bytesRead).toBeGreaterThan(0);
    } finally {
      await store.close();
    }
  });

  test('DEEP_ARCHIVE offers no expedited retrieval: refused before anything is asked for', async () => {
    const { store, snapshot } = await coldStore(
      'deep',
      { 'big.bin': randomBytes(100 * KIB) },
      'DEEP_ARCHIVE',
    );
    try {
      const from = proxy.requests.length;
      const err = await failureOf(store.retrieval(snapshot, undefined, { tier: 'expedited' }));
      expect(err.code).toBe('INVALID_ARGUMENT');
      expect(err.message).toBe(
        'expedited retrieval is not offered by DEEP_ARCHIVE (it offers standard and bulk), which holds 1 of the packs needed',
      );
      expect(seenSince(from, (r) => r.action === 'restore')).toEqual([]);
      const bulk = await store.retrieval(snapshot, undefined, { tier: 'bulk', days: 2 });
      expect(bulk).toMatchObject({ needed: 1, requested: 1, archives: ['DEEP_ARCHIVE'] });
      expect(bulk.estimate.hours).toEqual([48, 48]);
      expect(seenSince(from, (r) => r.action === 'restore').map((r) => [r.tier, r.days])).toEqual([
        ['Bulk', 2],
      ]);
    } finally {
      await store.close();
    }
  });

  test('asking twice for one object is harmless; objects that are not archived are always ready', async () => {
    const backend = new S3Store(
      parseLocation(`s3://${BUCKET}/thaw`, { ...proxy.options, storage_class: 'GLACIER' }) as S3Location,
    );
    try {
      const cold = 'ab'.padEnd(64, '1');
      const warm = 'cd'.padEnd(64, '2');
      await backend.put('packs', cold, [Buffer.from('data')], { archivable: true });
      await backend.put('packs', warm, [Buffer.from('metadata')]);
      expect(proxy.storageClass(backend.key('packs', cold))).toBe('GLACIER');
      expect(proxy.storageClass(backend.key('packs', warm))).toBeUndefined();
      expect((await backend.thawState('packs', warm)).state).toBe('ready');
      expect(await backend.thawState('packs', cold)).toMatchObject({
        state: 'frozen',
        archive: { name: 'GLACIER' },
      });
      const from = proxy.requests.length;
      await backend.thaw('packs', cold, { tier: 'standard', days: 1 });
      await backend.thaw('packs', cold, { tier: 'standard', days: 1 });
      expect(seenSince(from, (r) => r.action === 'restore').map((r) => r.status)).toEqual([202, 409]);
      expect((await backend.thawState('packs', cold)).state).toBe('pending');
      expect((await failureOf(backend.get('packs', cold))).code).toBe('ARCHIVED');
      proxy.advance(proxy.restoreDelayMs);
      expect((await backend.thawState('packs', cold)).state).toBe('ready');
      expect((await backend.get('packs', cold)).toString()).toBe('data');
      const listed = [];
      for await (const o of backend.list('packs')) listed.push(o);
      expect(listed.sort((x, y) => x.name.localeCompare(y.name))).toEqual([
        {
          name: cold,
          size: 4,
          archived: true,
          archive: expect.objectContaining({ name: 'GLACIER', minimumStorageDays: 90 }),
          modifiedAt: expect.any(Number),
        },
        { name: warm, size: 8, modifiedAt: expect.any(Number) },
      ]);
    } finally {
      await backend.close();
    }
  });
});
