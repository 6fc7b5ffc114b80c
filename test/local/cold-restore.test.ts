/**
 * Cold restores end to end in local mode (`node dist/local/start.js`), through HTTP: a cold app
 * keeps its data packs in GLACIER behind the archive proxy (S3's archive semantics over s3rver,
 * its retrievals a second long), and the restore workflow synthesized from lib/ plans, asks for
 * exactly the packs a subtree needs, waits (its Wait shortened by KLOUD_LOCAL_RETRIEVAL_WAIT_MS),
 * polls and restores byte for byte; a second restore asks for nothing; a deadline that passes
 * fails the task listing the packs still archived; a standard app's restore never waits.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { openStore } from '../../layers/kloset/index.js';
import { parseLocation } from '../../layers/kloset/core/location.js';
import { RESTORE_STATES } from '../../lib/restore-state-machine.js';
import { type ArchiveProxy, startArchiveProxy } from '../layers/kloset/connectors/s3/archive-proxy.js';
import { sha256, writePseudoRandom } from '../layers/control/browse/browse-fixtures.js';
import { type Answer, LocalMode } from './local-mode.js';

const BUCKET = 'kloud-cold-e2e';
const PASSPHRASE = 'cold restore passphrase never logged';
const FINAL = ['succeeded', 'failed', 'cancelled'];
const KIB = 1024;
/** how long a retrieval takes behind the proxy */
const THAW_MS = 1_500;

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let dir: string;
let data: string;
let local: LocalMode;
let proxy: ArchiveProxy;
let s3: S3Client;
let coldId = '';
let standardId = '';
let landingId = '';
/** the archived data packs each backup wrote (keys), and the files' digests */
const keepPacks: string[] = [];
const otherPacks: string[] = [];
const digests: Record<string, string> = {};

const s3Options = (endpoint: string, extra: Record<string, string> = {}) => ({
  endpoint,
  force_path_style: 'true',
  access_key: 'S3RVER',
  secret_access_key: 'S3RVER',
  ...extra,
});

async function readyApp(name: string, endpoint: string, configuration: Record<string, unknown> = {}) {
  const created = await local.call('POST', '/store-apps', {
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: configuration.storageClass ? 'cold' : 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint, forcePathStyle: true, prefix: `stores/${name}`, ...configuration },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
    passphrase: PASSPHRASE,
  });
  expect(created.status).toBe(201);
  expect((await local.call('POST', `/store-apps/${created.body.id}/initialize`)).status).toBe(201);
  return created.body.id as string;
}

/** Backs `paths` up into the app's store (the engine, here); answers the archived packs it wrote. */
async function backup(name: string, endpoint: string, extra: Record<string, string>, paths: string[]) {
  const from = proxy.requests.length;
  const store = await openStore(parseLocation(`s3://${BUCKET}/stores/${name}`, s3Options(endpoint, extra)), {
    passphrase: PASSPHRASE,
  });
  try {
    await store.backup(paths);
  } finally {
    await store.close();
  }
  const written = proxy.requests.slice(from).filter((r) => r.method === 'PUT' || r.method === 'POST');
  return [...new Set(written.map((r) => r.key))].filter((key) => proxy.storageClass(key) === 'GLACIER');
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-cold-e2e-'));
  local = new LocalMode(join(dir, 'local'), ['--s3', '--bucket', BUCKET], {
    KLOUD_LOCAL_RETRIEVAL_WAIT_MS: '200',
  });
  await local.start();
  proxy = await startArchiveProxy(
    {
      endpoint: local.s3Endpoint,
      port: Number(new URL(local.s3Endpoint).port),
      options: s3Options(local.s3Endpoint),
      stop: async () => undefined,
    },
    THAW_MS,
  );
  s3 = new S3Client({
    endpoint: local.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });

  data = join(dir, 'data');
  for (const sub of ['keep', 'other']) await mkdir(join(data, sub), { recursive: true });
  for (const name of ['a.bin', 'b.bin'])
    digests[name] = await writePseudoRandom(join(data, 'keep', name), name, 300 * KIB);
  await writePseudoRandom(join(data, 'other', 'c.bin'), 'c', 300 * KIB);

  coldId = await readyApp('cold', proxy.endpoint, { storageClass: 'GLACIER' });
  const glacier = { storage_class: 'GLACIER' };
  // two snapshots: the first holds keep/ only, so the packs keep/ needs are the first one's
  keepPacks.push(...(await backup('cold', proxy.endpoint, glacier, [join(data, 'keep')])));
  otherPacks.push(
    ...(await backup('cold', proxy.endpoint, glacier, [join(data, 'keep'), join(data, 'other')])),
  );
  standardId = await readyApp('standard', local.s3Endpoint);
  await backup('standard', local.s3Endpoint, {}, [join(data, 'keep')]);
  landingId = await readyApp('landing', local.s3Endpoint);
}, 180_000);

afterAll(async () => {
  s3?.destroy();
  await proxy?.close();
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

/** Reads the task until it ends, keeping each state it was seen in. */
async function untilEnded(taskId: string, seen: Answer[] = []): Promise<Answer> {
  for (let i = 0; i < 1200; i++) {
    const task = await local.call('GET', `/tasks/${taskId}`);
    seen.push(task);
    if (FINAL.includes(task.body.state)) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} did not end within 2 minutes`);
}

/** The Lambda states the task's execution went through (local mode logs each invocation). */
function statesOf(taskId: string): string[] {
  return local.output
    .split('\n')
    .filter((line) => line.includes('"message":"state machine"') && line.includes(taskId))
    .map((line) => (JSON.parse(line) as { state: string }).state);
}

const restoreRequests = (from: number) =>
  proxy.requests.slice(from).filter((r) => r.action === 'restore' && r.status === 202);

async function restoredDigests(prefix: string): Promise<Record<string, string>> {
  const listed = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: `${prefix}/` }));
  const found: Record<string, string> = {};
  for (const { Key } of listed.Contents ?? []) {
    const object = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: Key! }));
    found[Key!.slice(prefix.length + 1)] = sha256(await object.Body!.transformToByteArray());
  }
  return found;
}

test('browsing a cold app asks for no retrieval', async () => {
  const from = proxy.requests.length;
  const entries = await local.call(
    'GET',
    `/store-apps/${coldId}/snapshots/latest/entries?path=${encodeURIComponent(data)}`,
  );
  expect(entries.body.items.map((e: { name: string }) => e.name)).toEqual(['keep', 'other']);
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toEqual([]);
});

test('a dry run answers the plan: the archived packs a subtree needs, per tier the time and the cost; no task', async () => {
  const from = proxy.requests.length;
  const before = (await local.call('GET', '/tasks')).body.items.length;
  const body = {
    snapshot: 'latest',
    paths: [join(data, 'keep')],
    destination: { appId: landingId, path: 'restored/never' },
    dryRun: true,
  };
  const planned = await local.call('POST', `/store-apps/${coldId}/restores`, body);
  expect(planned.status).toBe(200);
  expect(planned.body).toEqual({
    snapshot: expect.stringMatching(/^[0-9a-f]{64}$/),
    archivedPacks: keepPacks.length,
    archivedBytes: expect.any(Number),
    readyPacks: 0,
    archives: ['GLACIER'],
    tiers: [
      { tier: 'expedited', hours: [1 / 60, 5 / 60], costUsd: expect.any(Number) },
      { tier: 'standard', hours: [3, 5], costUsd: expect.any(Number) },
      { tier: 'bulk', hours: [5, 12], costUsd: 0 },
    ],
  });
  expect(planned.body.archivedBytes).toBeGreaterThan(2 * 300 * KIB);
  expect(planned.body.archivedBytes).toBeLessThan(3 * 300 * KIB);
  const standard = await local.call('POST', `/store-apps/${standardId}/restores`, body);
  expect(standard.body).toMatchObject({ archivedPacks: 0, archives: [], tiers: [] });
  expect((await local.call('GET', '/tasks')).body.items).toHaveLength(before);
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toEqual([]);
});

test('a subtree of a cold app: exactly its packs are asked for, waited for, and restored byte for byte', async () => {
  expect(keepPacks.length).toBeGreaterThan(0);
  expect(otherPacks.length).toBeGreaterThan(0);
  const from = proxy.requests.length;
  const started = await local.call('POST', `/store-apps/${coldId}/restores`, {
    snapshot: 'latest',
    paths: [join(data, 'keep')],
    destination: { appId: landingId, path: 'restored/first' },
    retrieval: { tier: 'bulk', days: 2 },
  });
  expect(started.status).toBe(202);
  const seen: Answer[] = [];
  const ended = await untilEnded(started.body.id, seen);
  expect(ended.body).toMatchObject({ state: 'succeeded', result: { files: 2, errors: [] } });

  const waiting = seen.find((t) => t.body.state === 'waiting-for-retrieval');
  expect(waiting?.body.progress).toMatchObject({
    unit: 'packs',
    total: keepPacks.length,
    bytesTotal: expect.any(Number),
    message: expect.stringMatching(/^retrieving from GLACIER: .*left; requested so far: /),
  });
  // the packs keep/ needs, each asked for once, in the request's tier and days
  const asked = restoreRequests(from);
  expect(asked.map((r) => r.key).sort()).toEqual([...keepPacks].sort());
  expect(asked.every((r) => r.tier === 'Bulk' && r.days === 2)).toBe(true);
  expect(statesOf(started.body.id)).toEqual(
    expect.arrayContaining([
      RESTORE_STATES.plan,
      RESTORE_STATES.request,
      RESTORE_STATES.poll,
      RESTORE_STATES.slice,
    ]),
  );
  expect(await restoredDigests('restored/first/keep')).toEqual(digests);
}, 120_000);

test('a second restore of the same paths while the copies live asks for nothing and never waits', async () => {
  const from = proxy.requests.length;
  const started = await local.call('POST', `/store-apps/${coldId}/restores`, {
    snapshot: 'latest',
    paths: [join(data, 'keep')],
    destination: { appId: landingId, path: 'restored/second' },
  });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({ state: 'succeeded', result: { files: 2 } });
  expect(proxy.requests.slice(from).filter((r) => r.action === 'restore')).toEqual([]);
  const states = statesOf(started.body.id);
  expect(states).toContain(RESTORE_STATES.plan);
  expect(states).not.toContain(RESTORE_STATES.request);
  expect(await restoredDigests('restored/second/keep')).toEqual(digests);
}, 120_000);

test('a retrieval that outlives its deadline fails the task, listing the packs still archived', async () => {
  proxy.restoreDelayMs = 10 * 60_000;
  const started = await local.call('POST', `/store-apps/${coldId}/restores`, {
    snapshot: 'latest',
    paths: [join(data, 'other')],
    destination: { appId: landingId, path: 'restored/late' },
    // 7 s: the request and at least one poll come before it
    retrieval: { deadlineHours: 0.002 },
  });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({ state: 'failed', failure: { code: 'RETRIEVAL_TIMED_OUT' } });
  for (const key of otherPacks) expect(ended.body.failure.message).toContain(basename(key));
  expect(ended.body.failure.message).toMatch(/deadlineHours/);
  expect(statesOf(started.body.id)).toContain(RESTORE_STATES.poll);
  expect(statesOf(started.body.id)).not.toContain(RESTORE_STATES.slice);
}, 120_000);

test('a restore waiting for its retrieval is listed as waiting, and a cancel ends it', async () => {
  // other/'s packs were asked for above, and take ten minutes yet
  const started = await local.call('POST', `/store-apps/${coldId}/restores`, {
    snapshot: 'latest',
    paths: [join(data, 'other')],
    destination: { appId: landingId, path: 'restored/cancelled' },
  });
  let waiting: Answer | undefined;
  for (let i = 0; i < 600 && waiting?.body.state !== 'waiting-for-retrieval'; i++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    waiting = await local.call('GET', `/tasks/${started.body.id}`);
  }
  expect(waiting!.body).toMatchObject({
    state: 'waiting-for-retrieval',
    progress: { unit: 'packs', done: 0, total: otherPacks.length },
  });
  const listed = await local.call('GET', `/tasks?appId=${coldId}&state=waiting-for-retrieval`);
  expect(listed.body.items.map((t: { id: string }) => t.id)).toEqual([started.body.id]);
  const cancelled = await local.call('POST', `/tasks/${started.body.id}/cancel`);
  expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
  expect((await untilEnded(started.body.id)).body.state).toBe('cancelled');
}, 120_000);

test('a restore from a standard app goes from the plan straight to the files', async () => {
  const started = await local.call('POST', `/store-apps/${standardId}/restores`, {
    snapshot: 'latest',
    paths: [join(data, 'keep')],
    destination: { appId: landingId, path: 'restored/standard' },
  });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({ state: 'succeeded', result: { files: 2 } });
  expect(statesOf(started.body.id)).toEqual([
    RESTORE_STATES.start,
    RESTORE_STATES.plan,
    RESTORE_STATES.slice,
  ]);
  expect(await restoredDigests('restored/standard/keep')).toEqual(digests);
}, 120_000);

test('a plan that cannot be made (no such snapshot) fails the task with the reason', async () => {
  const started = await local.call('POST', `/store-apps/${standardId}/restores`, {
    snapshot: 'ffffffff',
    destination: { appId: landingId, path: 'restored/none' },
  });
  const ended = await untilEnded(started.body.id);
  expect(ended.body).toMatchObject({ state: 'failed', failure: { code: 'SNAPSHOT_NOT_FOUND' } });
  expect(statesOf(started.body.id)).toEqual([RESTORE_STATES.start, RESTORE_STATES.plan]);
}, 120_000);
