/**
 * The sync task against real stores: a local directory app and s3rver apps made ready through
 * StoreApps on dynalite, the task's slices run as the TaskWorker runs them.
 */
import { appendFile } from 'node:fs/promises';
import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { SyncParameters, SyncWork } from '../../../../layers/control/tasks/sync-work.js';
import type { StoreApp } from '../../../../layers/control/store-apps/store-app.js';
import { s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { tempDir, treeDigest, writeTree } from '../../kloset/fixtures.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { runSlices, type TaskApps, taskApps, taskRecord } from './task-apps.js';

const BUCKET = 'kloud-sync-tasks';
const dynamo = dynaliteForTests();
const s3 = s3rverForTests([BUCKET]);

let t: TaskApps;
let work: SyncWork;
let source: StoreApp;
let src: string;
/** the source's snapshots, oldest first */
let snapshots: string[];

const s3App = (name: string) =>
  t.ready({
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint: s3.server.endpoint, forcePathStyle: true, prefix: name },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

const fsApp = async (name: string) =>
  t.ready({
    resourceId: (await t.directory(name)).resourceId,
    name,
    storageType: 'standard',
    configuration: {},
  });

const sync = (appId: string, parameters: Record<string, unknown>, sliceMs?: number) =>
  runSlices(work, SyncParameters, taskRecord('sync', appId, parameters), sliceMs);

/** Where each of the app's snapshots came from (the source's IDs), sorted. */
async function origins(app: StoreApp): Promise<string[]> {
  const record = await t.repository.get(app.id);
  const list = await t.stores.withStore(record, (store) => store.snapshots());
  return list.map((s) => s.origin!.split(':')[1]!).sort();
}

beforeAll(async () => {
  t = await taskApps(dynamo.table());
  work = new SyncWork(t.stores);
  source = await fsApp('source');
  src = join(await tempDir(), 'src');
  await writeTree(src, {
    'big.bin': randomBytes(300_000),
    docs: { dir: { 'notes.txt': 'notes\n'.repeat(2000), link: { symlink: 'notes.txt' } } },
  });
  const record = await t.repository.get(source.id);
  snapshots = [];
  for (const line of ['one', 'two', 'three']) {
    await appendFile(join(src, 'docs', 'notes.txt'), `${line}\n`);
    const backup = await t.stores.withStore(record, (store) => store.backup([src]));
    snapshots.push(backup.snapshot!.id);
  }
});

test('a sync copies every snapshot to the peer, which restores them; a second sync copies nothing', async () => {
  const peer = await s3App('peer');
  const first = await sync(source.id, { peerAppId: peer.id });
  expect(first.slices).toBe(1);
  expect(first.result.copied.map((c) => c.from)).toEqual(snapshots);
  expect(first.result).toMatchObject({ skipped: 0, warnings: [] });
  expect(first.result.newBytes).toBeGreaterThan(300_000);
  expect(first.progress.at(-1)).toMatchObject({ unit: 'snapshots', done: 3, total: 3 });

  const to = await tempDir();
  const record = await t.repository.get(peer.id);
  const restored = await t.stores.withStore(record, (store) => store.restore('latest', undefined, { to }));
  expect(restored.errors).toEqual([]);
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));

  const again = await sync(source.id, { peerAppId: peer.id });
  expect(again.result).toMatchObject({ copied: [], skipped: 3, newBytes: 0 });
});

test('with a tiny deadline each slice copies one snapshot, and the result is the same', async () => {
  const peer = await s3App('tiny');
  const { result, slices } = await sync(source.id, { peerAppId: peer.id }, 0);
  expect(slices).toBe(3);
  expect(result.copied.map((c) => c.from)).toEqual(snapshots);
  expect(result.skipped).toBe(0);
  expect(await origins(peer)).toEqual([...snapshots].sort());
});

test('from the peer: the selected snapshots come into the app', async () => {
  const peer = await fsApp('upstream');
  await sync(peer.id, {
    peerAppId: source.id,
    direction: 'from',
    snapshots: [snapshots[0]!.slice(0, 8), 'latest'],
  });
  expect(await origins(peer)).toEqual([snapshots[0]!, snapshots[2]!].sort());
});

test('a peer that is not ready, or the app itself, is refused', async () => {
  const created = await t.apps.create({
    resourceId: (await t.directory('not-ready')).resourceId,
    name: 'not-ready',
    storageType: 'standard',
    configuration: {},
    passphrase: 'a passphrase long enough',
  });
  await expect(sync(source.id, { peerAppId: created.id })).rejects.toMatchObject({
    status: 409,
    code: 'APP_NOT_READY',
  });
  await expect(sync(source.id, { peerAppId: source.id })).rejects.toMatchObject({ status: 422 });
});
