/** prune on an S3 store (s3rver): the same two runs, plans and consolidated delta as objects. */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { parseLocation } from '../../../../layers/kloset/core/location.js';
import { createStore, openStore } from '../../../../layers/kloset/index.js';
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
