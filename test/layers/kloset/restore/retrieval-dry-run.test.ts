/** `retrieval(..., { dryRun: true })`: what a retrieval would ask for, without asking (s3rver behind the archive proxy). */
import { join } from 'node:path';
import { createStore, openStore } from '../../../../layers/kloset/index.js';
import { parseLocation } from '../../../../layers/kloset/core/location.js';
import { type ArchiveProxy, startArchiveProxy } from '../connectors/s3/archive-proxy.js';
import { s3rverForTests } from '../connectors/s3/s3rver.js';
import { FAST_KDF, PASSPHRASE, tempDir, writeTree } from '../fixtures.js';

const BUCKET = 'kloud-dry-run';
const s3 = s3rverForTests([BUCKET]);
let proxy: ArchiveProxy;
beforeAll(async () => {
  proxy = await startArchiveProxy(s3.server);
});
afterAll(async () => {
  await proxy?.close();
});

test('a dry run sends no RestoreObject and answers what a run would ask for; the run then asks for it', async () => {
  const location = parseLocation(`s3://${BUCKET}/dry`, { ...proxy.options, storage_class: 'GLACIER' });
  await createStore(location, { passphrase: PASSPHRASE, kdf: FAST_KDF });
  const src = join(await tempDir(), 'src');
  await writeTree(src, { 'a.txt': 'archived soon\n' });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  const snapshot = (await store.backup([src])).snapshot!.id;

  const from = proxy.requests.length;
  const dry = await store.retrieval(snapshot, `${src}/a.txt`, { dryRun: true });
  expect(dry).toMatchObject({ needed: 1, ready: 0, requested: 1, pending: 1, archives: ['GLACIER'] });
  expect(dry.estimate.hours).toEqual([3, 5]);
  expect(dry.estimate.costUsd).toBeGreaterThan(0);
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toEqual([]);
  // nothing was marked as asked for: a dry run again says the same
  expect(await store.retrieval(snapshot, `${src}/a.txt`, { dryRun: true })).toEqual(dry);

  const run = await store.retrieval(snapshot, `${src}/a.txt`);
  expect(run).toMatchObject({ needed: 1, requested: 1, pending: 1 });
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toHaveLength(1);
  await store.close();
});
