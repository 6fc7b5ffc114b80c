/**
 * The restore task against real places: a source store on s3rver, destinations on another S3
 * prefix, an SFTP server (Debian's sshd) and a local directory resource, archives in a staging
 * bucket on s3rver, and a cold store behind the archive-semantics proxy. Store apps are made
 * ready through StoreApps on dynalite; the task's slices run as the TaskWorker runs them.
 */
import { GetObjectCommand, ListObjectsV2Command } from '@aws-sdk/client-s3';
import { createHash, randomBytes } from 'node:crypto';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { StagingArea } from '../../../../layers/control/staging/staging-area.js';
import type { StoreApp } from '../../../../layers/control/store-apps/store-app.js';
import { restoreToArchive } from '../../../../layers/control/tasks/restore/archive-restore.js';
import { DestinationTargets } from '../../../../layers/control/tasks/restore/destination-target.js';
import {
  RestoreParameters,
  RestoreWork,
  restoreExclusiveKey,
} from '../../../../layers/control/tasks/restore-work.js';
import { type ArchiveProxy, startArchiveProxy } from '../../kloset/connectors/s3/archive-proxy.js';
import { s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { sshdForTests } from '../../kloset/connectors/sftp/sshd-for-tests.js';
import { tempDir, treeDigest, writeTree } from '../../kloset/fixtures.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { runSlices, type TaskApps, taskApps, taskRecord } from './task-apps.js';

const BUCKET = 'kloud-restore-tasks';
const STAGING = 'kloud-staging';
const dynamo = dynaliteForTests();
const s3 = s3rverForTests([BUCKET, STAGING]);
const sshd = sshdForTests();

let t: TaskApps;
let work: RestoreWork;
let destinations: DestinationTargets;
let proxy: ArchiveProxy;
let source: StoreApp;
/** the backed-up tree, and its subtree the tests restore */
let src: string;
let docs: string;

const sha256 = (data: Buffer) => createHash('sha256').update(data).digest('hex');

const s3App = (name: string, configuration: Record<string, unknown> = {}, endpoint = s3.server.endpoint) =>
  t.ready({
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: configuration.storageClass ? 'cold' : 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint, forcePathStyle: true, prefix: name, ...configuration },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

/** A directory resource whose app keeps its store in `store/` (or at its root). */
async function fsApp(name: string, storeAtRoot = false): Promise<{ app: StoreApp; root: string }> {
  const { resourceId, path } = await t.directory(name);
  const app = await t.ready({
    resourceId,
    name,
    storageType: 'standard',
    configuration: storeAtRoot ? {} : { path: 'store' },
  });
  return { app, root: path };
}

const restore = (parameters: Record<string, unknown>, sliceMs?: number, appId = source.id) =>
  runSlices(work, RestoreParameters, taskRecord('restore', appId, parameters), sliceMs);

/** What a restore must reproduce of a tree, whatever the medium keeps of times and modes. */
async function contents(root: string): Promise<Record<string, string>> {
  const digest = await treeDigest(root, false);
  return Object.fromEntries(
    Object.entries(digest).map(([path, e]) => [
      path,
      e.type === 'file' ? e.sha256! : e.type === 'symlink' ? `-> ${e.target}` : 'dir',
    ]),
  );
}

/** The files' contents below `root` as `contents` names them: the directories and links left out. */
async function fileContents(root: string): Promise<Record<string, string>> {
  return Object.fromEntries(
    Object.entries(await contents(root)).filter(([, c]) => c !== 'dir' && !c.startsWith('->')),
  );
}

beforeAll(async () => {
  t = await taskApps(dynamo.table());
  destinations = new DestinationTargets(t.settings, t.repository, t.secrets);
  work = new RestoreWork(t.stores, t.engine, destinations, new StagingArea(s3.raw, STAGING));
  proxy = await startArchiveProxy(s3.server);
  source = await s3App('source');
  src = join(await tempDir(), 'src');
  docs = join(src, 'docs');
  const many = Object.fromEntries(
    Array.from({ length: 8 }, (_, i) => [`f${i}.txt`, `file ${i}\n`.repeat(i + 1)]),
  );
  await writeTree(src, {
    docs: {
      dir: {
        'a.txt': 'alpha\n',
        'b.bin': randomBytes(200_000),
        deep: { dir: { 'c.txt': 'deep down\n' } },
        link: { symlink: 'a.txt' },
        many: { dir: many },
      },
    },
    other: { dir: { 'x.bin': randomBytes(1000) } },
  });
  const record = await t.repository.get(source.id);
  await t.stores.withStore(record, (store) => store.backup([src]));
});

afterAll(async () => {
  await proxy?.close();
});

test('a subtree onto another S3 prefix, byte for byte', async () => {
  const dest = await s3App('dest-s3');
  const { result } = await restore({
    snapshot: 'latest',
    paths: [docs],
    destination: { appId: dest.id, path: 'restored/one' },
  });
  expect(result).toMatchObject({ errors: [], errorCount: 0, destination: `s3://${BUCKET}/restored/one` });
  const expected = await fileContents(docs);
  expect(result.files).toBe(Object.keys(expected).length + 1); // and the symbolic link
  const listing = await s3.raw.send(
    new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'restored/one/docs/' }),
  );
  const restored: Record<string, string> = {};
  for (const { Key } of listing.Contents ?? []) {
    const body = await s3.raw.send(new GetObjectCommand({ Bucket: BUCKET, Key }));
    restored[Key!.slice('restored/one/docs/'.length)] = sha256(
      Buffer.from(await body.Body!.transformToByteArray()),
    );
  }
  expect(restored).toMatchObject(expected);
  expect(Object.keys(restored)).toHaveLength(result.files);
});

test('a subtree onto an SFTP server path, byte for byte', async () => {
  const { server } = sshd;
  const registered = await t.sftpServers.register({
    host: '127.0.0.1',
    port: server.port,
    user: server.user,
    hostKey: server.knownHostsLines.ed25519.split(' ').slice(1).join(' '),
  });
  const dest = await t.ready({
    resourceId: `sftp-server:${registered.id}`,
    name: 'dest-sftp',
    storageType: 'standard',
    configuration: { path: `${server.dir}/sftp-store` },
    credentials: { privateKey: await readFile(server.options.identity!, 'utf8') },
  });
  const path = `${server.dir}/restored`;
  const { result } = await restore({
    snapshot: 'latest',
    paths: [docs],
    destination: { appId: dest.id, path },
  });
  expect(result).toMatchObject({
    errors: [],
    destination: expect.stringContaining(`${server.dir}/restored`),
  });
  expect(await contents(join(path, 'docs'))).toEqual(await contents(docs));
});

test('with a tiny deadline each slice restores one entry, and the tree is the same', async () => {
  const { app, root } = await fsApp('dest-fs');
  const whole = await restore({
    snapshot: 'latest',
    paths: [docs, join(src, 'other')],
    destination: { appId: app.id, path: 'whole' },
  });
  const sliced = await restore(
    { snapshot: 'latest', paths: [docs, join(src, 'other')], destination: { appId: app.id, path: 'sliced' } },
    0,
  );
  expect(whole.slices).toBe(1);
  // docs and the 14 entries below it, other and x.bin
  expect(sliced.slices).toBe(17);
  expect(sliced.result).toEqual({ ...whole.result, destination: join(root, 'sliced') });
  expect(await treeDigest(join(root, 'sliced'))).toEqual(await treeDigest(join(root, 'whole')));
  expect(await treeDigest(join(root, 'sliced', 'docs'))).toEqual(await treeDigest(docs));
});

test('a cancelled restore stops after the entry it started, its checkpoint true', async () => {
  const { app, root } = await fsApp('dest-cancel');
  const cancelled = new AbortController();
  cancelled.abort();
  const parameters = RestoreParameters.parse({
    snapshot: 'latest',
    paths: [docs],
    destination: { appId: app.id, path: 'c' },
  });
  const outcome = await work.slice({
    task: taskRecord('restore', source.id, parameters),
    parameters,
    checkpoint: undefined,
    deadline: Date.now() + 60_000,
    signal: cancelled.signal,
    report: () => undefined,
  });
  expect(outcome).toMatchObject({ done: false, checkpoint: { pathIndex: 0, resumeAt: [0, 0] } });
  // docs itself is started (and left for the next slice to finish), nothing below it
  expect(await treeDigest(join(root, 'c'), false)).toEqual({ docs: { type: 'dir', mode: 0o700 } });
});

test('into a tar archive: the download holds the subtree', async () => {
  const { result } = await restore({ snapshot: 'latest', paths: [docs], destination: { archive: 'tar' } });
  expect(result).toMatchObject({
    errors: [],
    destination: expect.stringMatching(/^archive kloud-restore-[0-9a-f]{8}\.tar$/),
  });
  expect(Date.parse(result.expiresAt!)).toBeGreaterThan(Date.now());
  const answer = await fetch(result.downloadUrl!);
  expect(answer.status).toBe(200);
  const entries: Record<string, string> = {};
  const reading = extract();
  reading.on('entry', (header, stream, next) => {
    const parts: Buffer[] = [];
    stream.on('data', (p) => parts.push(p as Buffer));
    stream.on('end', () => {
      entries[header.name.replace(/\/$/, '')] =
        header.type === 'file'
          ? sha256(Buffer.concat(parts))
          : header.type === 'symlink'
            ? `-> ${header.linkname}`
            : 'dir';
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) =>
    reading.on('finish', () => resolve()).on('error', reject),
  );
  reading.end(Buffer.from(await answer.arrayBuffer()));
  await finished;
  const expected = Object.fromEntries(Object.entries(await contents(docs)).map(([p, c]) => [`docs/${p}`, c]));
  expect(entries).toEqual({ docs: 'dir', ...expected });
});

test('an archive past its bound is refused, and nothing is staged', async () => {
  const record = await t.repository.get(source.id);
  const staging = new StagingArea(s3.raw, STAGING);
  const refused = t.stores.withStore(record, (store) =>
    restoreToArchive(store, staging, {
      taskId: 'bounded',
      snapshot: 'latest',
      paths: [docs],
      signal: new AbortController().signal,
      maxBytes: 100_000,
      onProgress: () => undefined,
    }),
  );
  await expect(refused).rejects.toMatchObject({ status: 422, code: 'ARCHIVE_TOO_LARGE' });
  const staged = await s3.raw.send(
    new ListObjectsV2Command({ Bucket: STAGING, Prefix: 'restores/bounded/' }),
  );
  expect(staged.KeyCount).toBe(0);
});

test('overwrite never: a different existing file is reported and kept; a resumed restore passes over its own files', async () => {
  const { app, root } = await fsApp('dest-existing');
  await writeTree(join(root, 'existing'), { docs: { dir: { 'a.txt': 'not the snapshot\n' } } });
  const parameters = { snapshot: 'latest', paths: [docs], destination: { appId: app.id, path: 'existing' } };
  const { result } = await restore(parameters);
  expect(result.errors).toEqual([
    {
      path: join(root, 'existing', 'docs', 'a.txt'),
      message: expect.stringContaining('differs from the snapshot'),
    },
  ]);
  expect(await readFile(join(root, 'existing', 'docs', 'a.txt'), 'utf8')).toBe('not the snapshot\n');
  expect(await readFile(join(root, 'existing', 'docs', 'deep', 'c.txt'), 'utf8')).toBe('deep down\n');

  // what a slice that died before saving its checkpoint leaves for the next: its own files again
  const again = await restore(parameters);
  expect(again.result).toMatchObject({ files: 0, errors: result.errors });
});

test("a destination inside a store is refused with 422: the source's, its own, or any other app's", async () => {
  const dest = await s3App('dest-inside');
  await s3App('bystander');
  for (const path of ['source', 'source/sub', 'dest-inside/restored', 'bystander/restored', '']) {
    await expect(
      restore({ snapshot: 'latest', destination: { appId: dest.id, path } }),
    ).rejects.toMatchObject({ status: 422, code: 'DESTINATION_IN_STORE' });
  }
  const { app } = await fsApp('dest-at-root', true);
  await expect(
    restore({ snapshot: 'latest', destination: { appId: app.id, path: 'x' } }),
  ).rejects.toMatchObject({
    status: 422,
    message: expect.stringContaining('overlaps the store of app dest-at-root'),
  });
  await expect(
    restore({ snapshot: 'latest', destination: { appId: app.id, path: '../x' } }),
  ).rejects.toMatchObject({
    status: 422,
    code: 'INVALID_DESTINATION',
  });
});

test("an S3 destination stays within the deployment's store buckets", async () => {
  const limited = await taskApps(dynamo.table(), [{ bucket: BUCKET, prefix: 'allowed/' }]);
  const app = await limited.apps.create({
    resourceId: `s3-bucket:${BUCKET}`,
    name: 'aws-app',
    storageType: 'standard',
    protocol: 's3',
    configuration: { prefix: 'allowed/store' },
    passphrase: 'a passphrase long enough',
  });
  const limits = new DestinationTargets(limited.settings, limited.repository, limited.secrets);
  await expect(limits.target({ appId: app.id, path: 'elsewhere' })).rejects.toMatchObject({
    code: 'LOCATION_NOT_ALLOWED',
  });
  expect((await limits.target({ appId: app.id, path: 'allowed/restored' })).printable).toBe(
    `s3://${BUCKET}/allowed/restored`,
  );
});

test('the exclusive key is the printable destination; archives have none', async () => {
  const { app, root } = await fsApp('dest-key');
  const parameters = (destination: Record<string, unknown>) =>
    RestoreParameters.parse({ snapshot: 'latest', destination });
  expect(await restoreExclusiveKey(destinations, parameters({ appId: app.id, path: 'a/b' }))).toBe(
    join(root, 'a', 'b'),
  );
  expect(await restoreExclusiveKey(destinations, parameters({ archive: 'tar' }))).toBeUndefined();
});

test('from a cold store whose packs are archived: RETRIEVAL_NEEDED with cost and time, nothing retrieved', async () => {
  const cold = await s3App('cold', { storageClass: 'GLACIER' }, proxy.endpoint);
  const record = await t.repository.get(cold.id);
  await t.stores.withStore(record, (store) => store.backup([docs]));
  const seen = proxy.requests.length;
  const { app } = await fsApp('dest-cold');
  await expect(
    restore({ snapshot: 'latest', destination: { appId: app.id, path: 'r' } }, undefined, cold.id),
  ).rejects.toMatchObject({
    status: 409,
    code: 'RETRIEVAL_NEEDED',
    message: expect.stringMatching(
      /in archive storage \(GLACIER\): \d+ data pack\(s\) .* restored\. A standard retrieval typically takes 3–5 hours and costs/,
    ),
  });
  expect(proxy.requests.slice(seen).filter((r) => r.action === 'restore')).toEqual([]);
});
