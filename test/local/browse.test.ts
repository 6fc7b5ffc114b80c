/**
 * Browsing restore points end to end in local mode (`node dist/local/start.js`), through HTTP:
 * snapshots, entries a page at a time, downloads of 1 KB (inline), 5 MB and 100 MB (a presigned
 * URL to s3rver, byte for byte), diff and search pages, a cold app behind the archive proxy,
 * bad input on every route, and no secret in any answer or log line.
 */
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { openStore } from '../../layers/kloset/index.js';
import { parseLocation } from '../../layers/kloset/core/location.js';
import { type ArchiveProxy, startArchiveProxy } from '../layers/kloset/connectors/s3/archive-proxy.js';
import { fetchDigest, sha256, writePseudoRandom } from '../layers/control/browse/browse-fixtures.js';
import { LocalMode } from './local-mode.js';

const BUCKET = 'kloud-browse-e2e';
const PASSPHRASE = 'browse passphrase never logged';
/** s3rver checks only the access key: the secret key can be one that must never be printed */
const SECRET_KEY = 'browse-secret-key-never-logged';
const MIB = 2 ** 20;
const MANY = 2000;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let dir: string;
let data: string;
let local: LocalMode;
let proxy: ArchiveProxy;
let appId = '';
let coldId = '';
const snapshots: string[] = [];
const digests: Record<string, string> = {};

/** The engine's options for a location of the local S3 service (or the proxy in front of it). */
function s3Options(endpoint: string, extra: Record<string, string> = {}) {
  return {
    endpoint,
    force_path_style: 'true',
    access_key: 'S3RVER',
    secret_access_key: SECRET_KEY,
    ...extra,
  };
}

/** Adds an s3-compatible app at `prefix` and initializes its store; answers its ID. */
async function readyApp(name: string, endpoint: string, configuration: Record<string, unknown> = {}) {
  const created = await local.call('POST', '/store-apps', {
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: configuration.storageClass ? 'cold' : 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint, forcePathStyle: true, prefix: `browse/${name}`, ...configuration },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET_KEY },
    passphrase: PASSPHRASE,
  });
  expect(created.status).toBe(201);
  const initialized = await local.call('POST', `/store-apps/${created.body.id}/initialize`);
  expect(initialized).toMatchObject({ status: 201, body: { app: { state: 'ready' } } });
  return created.body.id as string;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-browse-e2e-'));
  local = new LocalMode(join(dir, 'local'), ['--s3', '--bucket', BUCKET]);
  await local.start();
  const port = Number(new URL(local.s3Endpoint).port);
  proxy = await startArchiveProxy({
    endpoint: local.s3Endpoint,
    port,
    options: s3Options(local.s3Endpoint),
    stop: async () => undefined,
  });

  data = join(dir, 'data');
  await mkdir(join(data, 'many'), { recursive: true });
  digests.small = await writePseudoRandom(join(data, 'small.bin'), 'e2e small', 1000);
  digests.medium = await writePseudoRandom(join(data, 'medium.bin'), 'e2e medium', 5 * MIB);
  digests.large = await writePseudoRandom(join(data, 'large.bin'), 'e2e large', 100 * MIB);
  for (let i = 0; i < MANY; i++) await writeFile(join(data, 'many', `e${String(i).padStart(4, '0')}`), '');

  appId = await readyApp('main', local.s3Endpoint);
  const store = await openStore(parseLocation(`s3://${BUCKET}/browse/main`, s3Options(local.s3Endpoint)), {
    passphrase: PASSPHRASE,
  });
  snapshots.push((await store.backup([data])).snapshot!.id);
  await writeFile(join(data, 'later.txt'), 'in the second snapshot only\n');
  snapshots.push((await store.backup([data])).snapshot!.id);
  await store.close();

  coldId = await readyApp('cold', proxy.endpoint, { storageClass: 'GLACIER' });
  const cold = await openStore(
    parseLocation(`s3://${BUCKET}/browse/cold`, s3Options(proxy.endpoint, { storage_class: 'GLACIER' })),
    { passphrase: PASSPHRASE },
  );
  await cold.backup([join(data, 'small.bin'), join(data, 'later.txt')]);
  await cold.close();
}, 180_000);

afterAll(async () => {
  await proxy?.close();
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

const base = () => `/store-apps/${appId}`;
const q = (path: string) => encodeURIComponent(path);

test('snapshots a page at a time, then a directory of 2,000 entries a page at a time', async () => {
  const first = await local.call('GET', `${base()}/snapshots?limit=1`);
  expect(first).toMatchObject({ status: 200, body: { items: [{ id: snapshots[1], sources: [data] }] } });
  const second = await local.call('GET', `${base()}/snapshots?limit=1&nextToken=${first.body.nextToken}`);
  expect(second.body).toEqual({
    items: [
      {
        id: snapshots[0],
        time: expect.any(String),
        hostname: expect.any(String),
        sources: [data],
        tags: [],
        size: 1000 + 105 * MIB,
        files: 3 + MANY,
      },
    ],
  });

  const names: string[] = [];
  let token = '';
  let pages = 0;
  do {
    const page = await local.call(
      'GET',
      `${base()}/snapshots/latest/entries?path=${q(`${data}/many`)}&limit=100${token && `&nextToken=${token}`}`,
    );
    expect(page.status).toBe(200);
    names.push(...page.body.items.map((e: { name: string }) => e.name));
    token = page.body.nextToken ?? '';
    pages++;
  } while (token && pages < 50);
  expect(pages).toBe(MANY / 100);
  expect(names).toEqual(Array.from({ length: MANY }, (_, i) => `e${String(i).padStart(4, '0')}`));
}, 120_000);

test('downloads: 1 KB inline, 5 MB and 100 MB from a presigned URL to s3rver, each byte for byte', async () => {
  const small = await local.call('GET', `${base()}/snapshots/latest/file?path=${q(`${data}/small.bin`)}`);
  expect(small).toMatchObject({ status: 200, body: { size: 1000, content: expect.any(String) } });
  expect(sha256(Buffer.from(small.body.content, 'base64'))).toBe(digests.small);
  for (const [name, size] of [
    ['medium', 5 * MIB],
    ['large', 100 * MIB],
  ] as const) {
    const answer = await local.call(
      'GET',
      `${base()}/snapshots/${snapshots[0]}/file?path=${q(`${data}/${name}.bin`)}`,
    );
    expect(answer).toMatchObject({
      status: 200,
      body: { size, url: expect.stringContaining(local.s3Endpoint) },
    });
    expect(await fetchDigest(answer.body.url)).toEqual({ status: 200, digest: digests[name], bytes: size });
  }
}, 180_000);

test('diff and search, a page at a time', async () => {
  const diff = await local.call(
    'GET',
    `${base()}/snapshots/${snapshots[0]}/diff/${snapshots[1]}?path=${q(data)}`,
  );
  expect(diff.status).toBe(200);
  expect(diff.body.items).toContainEqual({ path: '/later.txt', change: 'added', type: 'file' });
  const found = await local.call('GET', `${base()}/search?pattern=e000*&limit=5`);
  expect(found.body.items.map((f: { path: string }) => f.path)).toEqual(
    [0, 1, 2, 3, 4].map((i) => `${data}/many/e000${i}`),
  );
  const more = await local.call(
    'GET',
    `${base()}/search?pattern=e000*&limit=5&nextToken=${found.body.nextToken}`,
  );
  expect(more.body.items.map((f: { path: string }) => f.path)).toEqual(
    [5, 6, 7, 8, 9].map((i) => `${data}/many/e000${i}`),
  );
  expect(more.body.items[0].snapshot).toBe(snapshots[1]);
  const inOne = await local.call(
    'GET',
    `${base()}/search?pattern=${q('/**/later.txt')}&snapshot=${snapshots[0]}`,
  );
  expect(inOne).toEqual({ status: 200, body: { items: [] } });
});

test('a cold app: browsing asks for no retrieval, a download answers 409 with what one would take', async () => {
  const from = proxy.requests.length;
  const cold = `/store-apps/${coldId}`;
  const listed = await local.call('GET', `${cold}/snapshots`);
  expect(listed.body.items).toHaveLength(1);
  const entries = await local.call('GET', `${cold}/snapshots/latest/entries?path=${q(data)}`);
  expect(entries.body.items.map((e: { name: string }) => e.name)).toEqual(['later.txt', 'small.bin']);
  expect((await local.call('GET', `${cold}/search?pattern=*.bin`)).body.items).toHaveLength(1);
  expect((await local.call('GET', `${cold}/snapshots/latest/diff/latest`)).body).toEqual({ items: [] });
  const refused = await local.call('GET', `${cold}/snapshots/latest/file?path=${q(`${data}/small.bin`)}`);
  expect(refused).toMatchObject({ status: 409, body: { error: { code: 'RETRIEVAL_NEEDED' } } });
  expect(refused.body.error.message).toMatch(
    /\(GLACIER\): 1 data pack\(s\) .* typically takes 3–5 hours and costs under \$0\.01/,
  );
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toEqual([]);
});

test('bad input on every browse route is a 4xx that says what is wrong, never a 5xx', async () => {
  const missing = '00000000-0000-0000-0000-000000000000';
  const app = base();
  const cases: [string, number, string, RegExp][] = [
    ['/store-apps/nope/snapshots', 400, 'INVALID_INPUT', /path\.appId: expected a store app ID/],
    [`/store-apps/${missing}/snapshots`, 404, 'APP_NOT_FOUND', /./],
    [`${app}/snapshots?limit=0`, 400, 'INVALID_INPUT', /limit must be at least 1/],
    [`${app}/snapshots?nextToken=garbage!`, 400, 'BAD_PAGE_TOKEN', /start again without it/],
    [`${app}/snapshots?colour=blue`, 400, 'INVALID_INPUT', /unknown field "colour"/],
    [
      `${app}/snapshots/XYZ/entries`,
      400,
      'INVALID_INPUT',
      /path\.snapshotId: expected latest, a snapshot ID/,
    ],
    [`${app}/snapshots/abcd0000/entries`, 404, 'SNAPSHOT_NOT_FOUND', /list the snapshots first/],
    [`${app}/snapshots/latest/entries?path=${q('/no/such')}`, 404, 'PATH_NOT_FOUND', /check the path/],
    [`${app}/snapshots/latest/entries?path=relative`, 400, 'INVALID_INPUT', /absolute path/],
    [
      `${app}/snapshots/latest/entries?pathBytes=*`,
      400,
      'INVALID_INPUT',
      /query\.pathBytes: expected base64/,
    ],
    [`${app}/snapshots/latest/file`, 422, 'NOT_A_FILE', /\/ is a directory/],
    [`${app}/snapshots/latest/file?path=${q(data)}&pathBytes=Lw==`, 400, 'INVALID_INPUT', /not both/],
    [`${app}/snapshots/latest/file?path=${q('/a/../b')}`, 400, 'INVALID_INPUT', /\.\. is not allowed/],
    [`${app}/snapshots/latest/diff/nope`, 400, 'INVALID_INPUT', /path\.b: expected latest, a snapshot ID/],
    [`${app}/snapshots/latest/diff/latest?nextToken=bm9uZQ`, 400, 'BAD_PAGE_TOKEN', /./],
    [`${app}/search`, 400, 'INVALID_INPUT', /query\.pattern: required/],
    [`${app}/search?pattern=x&snapshot=latest!`, 400, 'INVALID_INPUT', /query\.snapshot/],
  ];
  for (const [path, status, code, message] of cases) {
    const answer = await local.call('GET', path);
    expect([path, answer.status, answer.body.error.code]).toEqual([path, status, code]);
    expect(answer.body.error.message).toMatch(message);
  }
  const created = await local.call('POST', '/store-apps', {
    resourceId: `s3-bucket:${BUCKET}`,
    name: 'untested',
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint: local.s3Endpoint, forcePathStyle: true, prefix: 'browse/untested' },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET_KEY },
    passphrase: PASSPHRASE,
  });
  const notReady = await local.call('GET', `/store-apps/${created.body.id}/search?pattern=x`);
  expect(notReady).toMatchObject({ status: 409, body: { error: { code: 'APP_NOT_READY' } } });
});

test('no secret in any answer or log line', () => {
  for (const secret of [PASSPHRASE, SECRET_KEY]) {
    expect(local.output).not.toContain(secret);
    for (const answer of local.answers) expect(answer).not.toContain(secret);
  }
  expect(local.output).toContain('"route":"GET /store-apps/{appId}/snapshots/{snapshotId}/file"');
});
