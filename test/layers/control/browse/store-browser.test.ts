/**
 * Browsing restore points against real stores: an fs store app (files of 1 KB, 5 MB and 12 MB, a
 * directory of 3,000 entries, a name that is not UTF-8) with dynalite and s3rver as the staging
 * bucket, and a cold app whose data packs are in GLACIER behind the archive proxy. The 100 MB
 * download is test/local/browse.test.ts's, through local mode.
 */
import { S3Client } from '@aws-sdk/client-s3';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { StoreBrowser } from '../../../../layers/control/browse/store-browser.js';
import { FileDownloads } from '../../../../layers/control/browse/file-download.js';
import { KlosetAdapter } from '../../../../layers/control/engine/kloset-adapter.js';
import type { Settings } from '../../../../layers/control/runtime/settings.js';
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';
import { StagingArea } from '../../../../layers/control/staging/staging-area.js';
import { AppStores } from '../../../../layers/control/store-apps/app-store.js';
import { StoreAppActions } from '../../../../layers/control/store-apps/store-app-actions.js';
import { StoreAppRepository } from '../../../../layers/control/store-apps/store-app-repository.js';
import { StoreApps } from '../../../../layers/control/store-apps/store-apps.js';
import { SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
import { createStore, openStore } from '../../../../layers/kloset/index.js';
import { parseLocation } from '../../../../layers/kloset/core/location.js';
import { FAST_KDF, PASSPHRASE, tempDir } from '../../kloset/fixtures.js';
import { type ArchiveProxy, startArchiveProxy } from '../../kloset/connectors/s3/archive-proxy.js';
import { s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { fetchDigest, sha256, writePseudoRandom } from './browse-fixtures.js';

const STAGING = 'kloud-staging';
const COLD = 'kloud-cold';
const MIB = 2 ** 20;
const MANY = 3000;

const dynamo = dynaliteForTests();
const s3 = s3rverForTests([STAGING, COLD]);

/** A staging area that counts its uploads (to see a repeated download reuse the staged copy). */
class CountingStaging extends StagingArea {
  uploads = 0;
  override upload(...args: Parameters<StagingArea['upload']>) {
    this.uploads++;
    return super.upload(...args);
  }
}

let browser: StoreBrowser;
let apps: StoreApps;
let actions: StoreAppActions;
let staging: CountingStaging;
let proxy: ArchiveProxy;
let appStores: AppStores;
let client: S3Client;
let data = '';
let appId = '';
let first = '';
let second = '';
const digests: Record<string, string> = {};

beforeAll(async () => {
  const root = await tempDir('kloud-browse-');
  const settings: Settings = {
    tableName: 'kloud-test',
    secretPrefix: 'kloud/store-apps/',
    storeBuckets: [],
    cacheDir: join(root, 'cache'),
    secretsFile: join(root, 'secrets.json'),
    localRoot: join(root, 'directories'),
  };
  const table = dynamo.table();
  const secrets = new FileSecretStore(settings.secretsFile!);
  const repository = new StoreAppRepository(table);
  apps = new StoreApps(settings, repository, secrets, new SftpServers(table));
  const engine = new KlosetAdapter(settings.cacheDir);
  actions = new StoreAppActions(settings, repository, secrets, engine);
  client = new S3Client({
    endpoint: s3.server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  staging = new CountingStaging(client, STAGING);
  appStores = new AppStores(settings, repository, secrets, engine);
  browser = new StoreBrowser(appStores, new FileDownloads(staging));
  proxy = await startArchiveProxy(s3.server);

  data = join(root, 'data');
  await mkdir(join(data, 'files'), { recursive: true });
  await mkdir(join(data, 'many'));
  digests.small = await writePseudoRandom(join(data, 'files', 'small.bin'), 'small', 1000);
  digests.medium = await writePseudoRandom(join(data, 'files', 'medium.bin'), 'medium', 5 * MIB);
  digests.large = await writePseudoRandom(join(data, 'files', 'large.bin'), 'large', 12 * MIB);
  for (let i = 0; i < MANY; i++)
    await writeFile(join(data, 'many', `f${String(i).padStart(5, '0')}`), `${i}\n`);
  await writeFile(Buffer.from(`${data}/caf\xe9.txt`, 'latin1'), 'not UTF-8\n');
  await symlink('files/small.bin', join(data, 'link'));

  const location = join(settings.localRoot!, 'backups', 'main');
  await createStore(location, { passphrase: PASSPHRASE, kdf: FAST_KDF });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  first = (await store.backup([data], { tags: ['first'] })).snapshot!.id;
  await writeFile(join(data, 'files', 'new.txt'), 'added in the second snapshot\n');
  await rm(join(data, 'many', 'f00001'));
  second = (await store.backup([data])).snapshot!.id;
  await store.close();

  const app = await apps.create({
    resourceId: 'directory:backups',
    name: 'main',
    storageType: 'standard',
    configuration: { path: 'main' },
    passphrase: PASSPHRASE,
  });
  expect(await actions.test(app.id)).toMatchObject({ app: { state: 'ready' } });
  appId = app.id;
}, 120_000);

afterAll(async () => {
  await proxy?.close();
});

const page = { limit: 25 };

test('snapshots: newest first, a page at a time, with host, sources, tags and size', async () => {
  const one = await browser.snapshots(appId, { limit: 1 });
  expect(one.items.map((s) => s.id)).toEqual([second]);
  const two = await browser.snapshots(appId, { limit: 1, nextToken: one.nextToken });
  expect(two).toEqual({
    items: [
      {
        id: first,
        time: expect.any(String),
        hostname: expect.any(String),
        sources: [data],
        tags: ['first'],
        size: 1000 + 17 * MIB + 10 + (2 * 10 + 3 * 90 + 4 * 900 + 5 * 2000),
        files: 3 + MANY + 1,
      },
    ],
  });
  expect((await browser.snapshots(appId, { limit: 25, tag: 'first' })).items.map((s) => s.id)).toEqual([
    first,
  ]);
  await expect(browser.snapshots(appId, { limit: 1, nextToken: 'not-a-token!' })).rejects.toMatchObject({
    status: 400,
    code: 'BAD_PAGE_TOKEN',
  });
});

test(`entries: a directory of ${MANY} entries page by page, in name order, each entry described`, async () => {
  const names: string[] = [];
  let nextToken: string | undefined;
  let pages = 0;
  do {
    const got = await browser.entries(appId, first, { limit: 100, path: `${data}/many`, nextToken });
    names.push(...got.items.map((e) => e.name));
    nextToken = got.nextToken;
    pages++;
  } while (nextToken && pages < 100);
  expect(pages).toBe(MANY / 100);
  expect(names).toEqual(Array.from({ length: MANY }, (_, i) => `f${String(i).padStart(5, '0')}`));

  const top = await browser.entries(appId, 'latest', { ...page, path: data });
  expect(top.items.map((e) => e.name)).toEqual(['caf\ufffd.txt', 'files', 'link', 'many']);
  expect(top.items[1]).toEqual({
    name: 'files',
    path: `${data}/files`,
    type: 'directory',
    size: 0,
    mode: '0755',
    mtime: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
  });
  expect(top.items[2]).toMatchObject({ type: 'symlink', target: 'files/small.bin' });
  const file = await browser.entries(appId, second.slice(0, 8), { ...page, path: `${data}/files/small.bin` });
  expect(file.items).toEqual([
    expect.objectContaining({ name: 'small.bin', type: 'file', size: 1000, mode: '0644' }),
  ]);
});

test('a name that is not UTF-8: listed with its bytes beside it, and downloadable by them', async () => {
  const [entry] = (await browser.entries(appId, first, { ...page, path: data })).items;
  expect(entry).toMatchObject({
    name: 'caf\ufffd.txt',
    nameBytes: Buffer.from('caf\xe9.txt', 'latin1').toString('base64'),
    pathBytes: Buffer.from(`${data}/${'caf\xe9.txt'}`, 'latin1').toString('base64'),
  });
  const got = await browser.file(appId, first, { pathBytes: entry!.pathBytes });
  expect(Buffer.from((got as { content: string }).content, 'base64').toString()).toBe('not UTF-8\n');
  expect(got.pathBytes).toBe(entry!.pathBytes);
});

test('downloads: 1 KB inline, 5 MB and 12 MB (a multipart upload) through a presigned URL, byte for byte; a repeat reuses the copy', async () => {
  const small = await browser.file(appId, first, { path: `${data}/files/small.bin` });
  expect(small).toEqual({ path: `${data}/files/small.bin`, size: 1000, content: expect.any(String) });
  expect(sha256(Buffer.from((small as { content: string }).content, 'base64'))).toBe(digests.small);

  for (const name of ['medium', 'large']) {
    const uploads = staging.uploads;
    const answer = await browser.file(appId, first, { path: `${data}/files/${name}.bin` });
    expect(answer).toMatchObject({ size: name === 'medium' ? 5 * MIB : 12 * MIB, url: expect.any(String) });
    const { url, expiresAt } = answer as { url: string; expiresAt: string };
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(14 * 60_000);
    expect(url).toContain('X-Amz-Signature=');
    expect(await fetchDigest(url)).toEqual({ status: 200, digest: digests[name], bytes: answer.size });
    expect(staging.uploads).toBe(uploads + 1);
  }
  const again = await browser.file(appId, second, { path: `${data}/files/medium.bin` });
  const repeat = await browser.file(appId, second, { path: `${data}/files/medium.bin` });
  expect(staging.uploads).toBe(3); // the second snapshot's copy once; the repeat found it
  for (const answer of [again, repeat])
    expect((await fetchDigest((answer as { url: string }).url)).digest).toBe(digests.medium);
}, 120_000);

test('diff: what changed between two snapshots, a page at a time', async () => {
  const changes: unknown[] = [];
  let nextToken: string | undefined;
  do {
    const got = await browser.diff(appId, first, second, { limit: 1, path: data, nextToken });
    expect(got.items.length).toBeLessThanOrEqual(1);
    changes.push(...got.items);
    nextToken = got.nextToken;
  } while (nextToken && changes.length < 20);
  expect(changes).toEqual(
    expect.arrayContaining([
      { path: '/files/new.txt', change: 'added', type: 'file' },
      { path: '/many/f00001', change: 'removed', type: 'file' },
    ]),
  );
  expect(changes.filter((c) => (c as { change: string }).change !== 'metadata')).toHaveLength(2);
});

test('search: every snapshot newest first, or one, a page at a time', async () => {
  const all = await browser.search(appId, { limit: 1, pattern: 'small.bin' });
  expect(all.items).toEqual([
    {
      snapshot: second,
      path: `${data}/files/small.bin`,
      type: 'file',
      size: 1000,
      mtime: expect.any(String),
    },
  ]);
  const next = await browser.search(appId, { limit: 1, pattern: 'small.bin', nextToken: all.nextToken });
  expect(next).toEqual({ items: [expect.objectContaining({ snapshot: first })] });
  const one = await browser.search(appId, { limit: 100, pattern: `${data}/many/f0000*`, snapshot: first });
  expect(one.items.map((f) => f.path)).toEqual(
    Array.from({ length: 10 }, (_, i) => `${data}/many/f0000${i}`),
  );
  expect(one.nextToken).toBeUndefined();
});

test('refusals: not ready, missing snapshot or path, a directory or a symlink as a file, bad paths', async () => {
  const created = await apps.create({
    resourceId: 'directory:backups',
    name: 'untested',
    storageType: 'standard',
    configuration: { path: 'elsewhere' },
    passphrase: PASSPHRASE,
  });
  await expect(browser.snapshots(created.id, page)).rejects.toMatchObject({
    status: 409,
    code: 'APP_NOT_READY',
  });
  const refusals: [() => Promise<unknown>, number, string, RegExp][] = [
    [() => browser.entries(appId, 'abcdef12', page), 404, 'SNAPSHOT_NOT_FOUND', /list the snapshots first/],
    [
      () => browser.entries(appId, first, { ...page, path: '/nowhere' }),
      404,
      'PATH_NOT_FOUND',
      /no \/nowhere/,
    ],
    [() => browser.file(appId, first, { path: data }), 422, 'NOT_A_FILE', /is a directory/],
    [
      () => browser.file(appId, first, { path: `${data}/link` }),
      422,
      'NOT_A_FILE',
      /symlink to files\/small\.bin/,
    ],
    [() => browser.file(appId, first, { path: 'relative/x' }), 400, 'INVALID_INPUT', /absolute path/],
    [
      () => browser.file(appId, first, { path: `${data}/../etc` }),
      400,
      'INVALID_INPUT',
      /\.\. is not allowed/,
    ],
    [() => browser.file(appId, first, { path: '/a', pathBytes: 'L2E=' }), 400, 'INVALID_INPUT', /not both/],
    [
      () => browser.diff(appId, first, 'latest', { ...page, path: '/nowhere' }),
      404,
      'PATH_NOT_FOUND',
      /nowhere/,
    ],
  ];
  for (const [call, status, code, message] of refusals)
    await expect(call()).rejects.toMatchObject({ status, code, message: expect.stringMatching(message) });

  // a file larger than a download may copy in one request: the answer says to restore it
  const capped = new StoreBrowser(appStores, new FileDownloads(staging, 4 * MIB));
  await expect(capped.file(appId, first, { path: `${data}/files/medium.bin` })).rejects.toMatchObject({
    status: 422,
    code: 'FILE_TOO_LARGE',
    message: expect.stringMatching(/has 5242880 bytes, more than the 4194304 .* restore it instead/),
  });
});

describe('a cold app (data packs in GLACIER)', () => {
  let coldId = '';
  let snapshot = '';
  beforeAll(async () => {
    const app = await apps.create({
      resourceId: `s3-bucket:${COLD}`,
      name: 'cold',
      storageType: 'cold',
      protocol: 's3-compatible',
      configuration: {
        endpoint: proxy.endpoint,
        forcePathStyle: true,
        prefix: 'cold',
        storageClass: 'GLACIER',
      },
      credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
      passphrase: PASSPHRASE,
    });
    expect(await actions.initialize(app.id)).toMatchObject({ app: { state: 'ready' } });
    coldId = app.id;
    const location = parseLocation(`s3://${COLD}/cold`, { ...proxy.options, storage_class: 'GLACIER' });
    const store = await openStore(location, { passphrase: PASSPHRASE });
    snapshot = (await store.backup([join(data, 'files', 'small.bin')])).snapshot!.id;
    await store.close();
  }, 60_000);

  test('browsing reads no archived object and asks for no retrieval; a download says what one would take', async () => {
    const from = proxy.requests.length;
    expect((await browser.snapshots(coldId, page)).items.map((s) => s.id)).toEqual([snapshot]);
    const entries = await browser.entries(coldId, snapshot, { ...page, path: `${data}/files` });
    expect(entries.items).toEqual([expect.objectContaining({ name: 'small.bin', size: 1000 })]);
    expect((await browser.search(coldId, { ...page, pattern: '*.bin' })).items).toHaveLength(1);
    expect((await browser.diff(coldId, snapshot, 'latest', { ...page })).items).toEqual([]);
    const archived = (r: { key: string }) => proxy.storageClass(r.key) === 'GLACIER';
    expect(proxy.requests.slice(from).filter((r) => r.method === 'GET' && archived(r))).toEqual([]);

    await expect(browser.file(coldId, snapshot, { path: `${data}/files/small.bin` })).rejects.toMatchObject({
      status: 409,
      code: 'RETRIEVAL_NEEDED',
      message: expect.stringMatching(
        /is in archive storage \(GLACIER\): 1 data pack\(s\) of \d+ bytes must be retrieved .* typically takes 3–5 hours and costs under \$0\.01/,
      ),
    });
    const sent = proxy.requests.slice(from);
    expect(sent.filter((r) => r.action === 'restore')).toEqual([]);
    expect(sent.filter((r) => r.method === 'PUT' || r.method === 'POST' || r.method === 'DELETE')).toEqual(
      [],
    );
  });
});
