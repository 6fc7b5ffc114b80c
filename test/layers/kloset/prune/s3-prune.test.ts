/** prune on an S3 store (s3rver): the same two runs, plans and consolidated delta as objects. */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLocation } from '../../../../layers/kloset/core/location.js';
import { createStore, openStore } from '../../../../layers/kloset/index.js';
import { startArchiveProxy } from '../connectors/s3/archive-proxy.js';
import { s3rverForTests } from '../connectors/s3/s3rver.js';
import { FAST_KDF, PASSPHRASE, tempDir, treeDigest, writeTree } from '../fixtures.js';

const BUCKET = 'kloud-prune';
const s3 = s3rverForTests([BUCKET]);

async function names(store: Awaited<ReturnType<typeof openStore>>, kind: 'packs' | 'index' | 'plans') {
  const out: string[] = [];
  for await (const o of store.repo.backend.list(kind)) out.push(o.name);
  return out;
}

test('forget + prune on S3: the forgotten pack goes, the kept snapshot restores, check --read-data passes', async () => {
  const location = parseLocation(`s3://${BUCKET}/stores/prune`, s3.server.options);
  await createStore(location, { passphrase: PASSPHRASE, kdf: FAST_KDF, packSize: 64 * 1024 });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const src = join(await tempDir(), 'src');
  await writeTree(src, { 'old.bin': randomBytes(150_000), shared: 'shared' });
  await store.backup([src]);
  await rm(join(src, 'old.bin'));
  await store.backup([src]);
  await store.forget({ policy: { last: 1 } });
  const packsBefore = await names(store, 'packs');

  const first = await store.prune({ graceMs: 0, repackThreshold: 1 });
  expect(first.planned.length).toBeGreaterThan(0);
  expect(await names(store, 'plans')).toHaveLength(1);
  const second = await store.prune({ graceMs: 0, repackThreshold: 1 });
  expect(second.deleted.map((p) => p.name).sort()).toEqual(first.planned.map((p) => p.name).sort());
  expect((await names(store, 'packs')).sort()).toEqual(
    packsBefore.filter((n) => !first.planned.some((p) => p.name === n)).sort(),
  );
  expect([await names(store, 'plans'), (await names(store, 'index')).length]).toEqual([[], 1]);

  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect((await reopened.check({ readData: true })).problems).toEqual([]);
  const to = await tempDir();
  await reopened.restore('latest', undefined, { to });
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  await reopened.close();
  await store.close();
});

test('a cold store: archived packs are never rewritten; a wholly unused one is deleted with its early-deletion charge reported first', async () => {
  const proxy = await startArchiveProxy(s3.server);
  try {
    const options = { ...proxy.options, storage_class: 'DEEP_ARCHIVE' };
    const location = parseLocation(`s3://${BUCKET}/stores/cold-prune`, options);
    await createStore(location, { passphrase: PASSPHRASE, kdf: FAST_KDF, packSize: 64 * 1024 });
    const store = await openStore(location, { passphrase: PASSPHRASE });
    const src = join(await tempDir(), 'src');
    // packs fill in name order up to 64 KiB: [a], [b, c-old] mostly unused (it would be rewritten
    // were it not archived), [old.bin] wholly unused
    await writeTree(src, {
      a: randomBytes(70_000),
      b: randomBytes(3000),
      'c-old': randomBytes(100_000),
      'old.bin': randomBytes(150_000),
    });
    await store.backup([src]);
    await rm(join(src, 'old.bin'));
    await rm(join(src, 'c-old'));
    await store.backup([src]);
    await store.forget({ policy: { last: 1 } });

    const dry = await store.prune({ dryRun: true, graceMs: 0 });
    expect(dry.repacked.every((p) => !p.archived)).toBe(true);
    const archivedPlanned = dry.planned.filter((p) => p.archived);
    expect(archivedPlanned).toHaveLength(1);
    // just written: the whole 180 days are billed, at Deep Archive's list price
    for (const p of archivedPlanned)
      expect(p.earlyDeletion).toEqual({
        archive: 'DEEP_ARCHIVE',
        daysShort: 180,
        usd: ((p.size / 2 ** 30) * 0.00099 * 180) / 30,
      });
    await store.prune({ graceMs: 0 });
    const second = await store.prune({ graceMs: 0, dryRun: true });
    expect(
      second.deleted
        .filter((p) => p.archived)
        .map((p) => p.name)
        .sort(),
    ).toEqual(archivedPlanned.map((p) => p.name).sort());
    expect(second.earlyDeletionUsd).toBeCloseTo(
      archivedPlanned.reduce((n, p) => n + p.earlyDeletion!.usd, 0),
      12,
    );
    await store.prune({ graceMs: 0 });
    const left = await names(store, 'packs');
    for (const p of archivedPlanned) expect(left).not.toContain(p.name);
    // no retrieval was ever asked for, and no archived pack was read
    expect(
      proxy.requests.filter((r) => r.action === 'restore' || (r.method === 'GET' && r.status === 403)),
    ).toEqual([]);
    await store.close();
  } finally {
    await proxy.close();
  }
});
