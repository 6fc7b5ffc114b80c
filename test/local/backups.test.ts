/**
 * Backups end to end in local mode, through HTTP: the backup state machine synthesized from lib/
 * (its local variant, an inline Map) plans an S3 prefix of s3rver in several invocations, backs it
 * up in many batches and commits one snapshot. The source app reaches s3rver through a counting
 * proxy, so a second backup is seen to GET only the objects that changed. The snapshot, read
 * back through the engine, is the source byte for byte, an object of several batches (ranges
 * joined) among them. A schedule of a backup fires (a minute of schedule time lasts a second)
 * and its run is a backup task that makes a snapshot.
 */
import { createHash } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand, S3Client } from '@aws-sdk/client-s3';
import { afterAll, beforeAll, expect, test } from '@jest/globals';
import { RequestCounter } from '../../bench/request-counter.js';
import { openStore, parseLocation } from '../../layers/kloset/index.js';
import { BACKUP_STATES } from '../../lib/backup-state-machine.js';
import { type Answer, LocalMode } from './local-mode.js';

const BUCKET = 'kloud-backups-e2e';
const PASSPHRASE = 'backups e2e passphrase never logged';
const SECRET_KEY = 'backups-secret-key-never-logged';
const OBJECTS = 500;
const BATCH_BYTES = 64 * 1024;
const BATCH_ENTRIES = 200;
/** several batches' worth: backed up in ranges, joined at commit */
const LARGE = 5 * BATCH_BYTES + 12_345;
const FINAL = ['succeeded', 'failed', 'cancelled'];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let dir: string;
let local: LocalMode;
let counter: RequestCounter;
let s3: S3Client;
let vaultId: string;
let sourceId: string;

/** Deterministic incompressible bytes. */
function bytesOf(seed: string, size: number): Buffer {
  const parts: Buffer[] = [];
  for (let n = 0; n * 32 < size; n++) parts.push(createHash('sha256').update(`${seed}:${n}`).digest());
  return Buffer.concat(parts).subarray(0, size);
}

const objectName = (i: number) => `data/d${i % 7}/object-${String(i).padStart(5, '0')}.bin`;

async function put(key: string, body: Buffer): Promise<void> {
  await s3.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
}

async function get(key: string): Promise<Buffer> {
  const got = await s3.send(new GetObjectCommand({ Bucket: BUCKET, Key: key }));
  return Buffer.from(await got.Body!.transformToByteArray());
}

async function keysUnder(prefix: string): Promise<string[]> {
  const keys: string[] = [];
  let token: string | undefined;
  do {
    const page = await s3.send(
      new ListObjectsV2Command({ Bucket: BUCKET, Prefix: prefix, ContinuationToken: token }),
    );
    keys.push(...(page.Contents ?? []).map((c) => c.Key!));
    token = page.NextContinuationToken;
  } while (token);
  return keys.sort();
}

async function inParallel<T>(items: readonly T[], work: (item: T) => Promise<void>): Promise<void> {
  let next = 0;
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < items.length) await work(items[next++]!);
    }),
  );
}

/** An s3-compatible app at `prefix` (through `endpoint`), its store initialized. */
async function readyApp(name: string, endpoint: string, prefix: string): Promise<string> {
  const created = await local.call('POST', '/store-apps', {
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint, forcePathStyle: true, prefix },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET_KEY },
    passphrase: PASSPHRASE,
  });
  expect(created.status).toBe(201);
  const initialized = await local.call('POST', `/store-apps/${created.body.id}/initialize`);
  expect(initialized).toMatchObject({ status: 201, body: { app: { state: 'ready' } } });
  return created.body.id as string;
}

async function untilEnded(taskId: string): Promise<Answer> {
  for (let i = 0; i < 2400; i++) {
    const task = await local.call('GET', `/tasks/${taskId}`);
    if (FINAL.includes(task.body.state)) return task;
    await new Promise((resolve) => setTimeout(resolve, 100));
  }
  throw new Error(`task ${taskId} did not end within 4 minutes`);
}

/** How many times the state machine called a state for the task (local mode logs each invocation). */
function callsOf(taskId: string, state: string): number {
  return local.output
    .split('\n')
    .filter((line) => line.includes(`"state":"${state}"`) && line.includes(taskId)).length;
}

async function backUp(): Promise<Answer> {
  const started = await local.call('POST', `/store-apps/${vaultId}/backups`, {
    source: { appId: sourceId, path: 'data' },
    tags: ['e2e'],
  });
  expect(started).toMatchObject({ status: 202, body: { type: 'backup', appId: vaultId } });
  return untilEnded(started.body.id);
}

/** Source GETs of objects under data/ since the last take. */
function objectsRead(): string[] {
  return Object.entries(counter.take().byObject)
    .filter(([name, n]) => name.startsWith(`GET /${BUCKET}/data/`) && n > 0)
    .map(([name]) => name.slice(`GET /${BUCKET}/`.length))
    .sort();
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-backups-e2e-'));
  local = new LocalMode(join(dir, 'local'), ['--s3', '--bucket', BUCKET], {
    KLOUD_BACKUP_BATCH_BYTES: String(BATCH_BYTES),
    KLOUD_BACKUP_BATCH_ENTRIES: String(BATCH_ENTRIES),
    // each plan invocation stops as soon as it may (after its 256 entries): the plan of 501
    // objects continues across invocations, as many whatever the machine's load
    KLOUD_TASK_SLICE_MS: '1',
    // a batch in one invocation (batches cut across invocations: backup-workflow-parts.test.ts)
    KLOUD_BACKUP_BATCH_SLICE_MS: '600000',
    // a minute of schedule time lasts a second (local mode only)
    KLOUD_SCHEDULE_MINUTE_MS: '1000',
  });
  await local.start();
  counter = await RequestCounter.start(local.s3Endpoint);
  s3 = new S3Client({
    endpoint: local.s3Endpoint,
    forcePathStyle: true,
    region: 'us-east-1',
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET_KEY },
  });
  vaultId = await readyApp('vault', local.s3Endpoint, 'vault');
  sourceId = await readyApp('source', counter.endpoint, 'source-store');
  const indexes = Array.from({ length: OBJECTS }, (_, i) => i);
  await inParallel(indexes, (i) => put(objectName(i), bytesOf(`v1:${i}`, 200 + ((i * 37) % 1800))));
  await put('data/large.bin', bytesOf('large', LARGE));
}, 240_000);

afterAll(async () => {
  await local?.stop();
  await counter?.stop();
  s3?.destroy();
  await rm(dir, { recursive: true, force: true });
});

test('a prefix of many objects: a plan over several invocations, many batches, one snapshot', async () => {
  counter.take();
  const ended = await backUp();
  const taskId = ended.body.id as string;
  expect(ended.body).toMatchObject({
    state: 'succeeded',
    executionArn: expect.stringContaining(taskId),
    result: { files: OBJECTS + 1, filesRead: OBJECTS + 1, errors: [], errorCount: 0 },
  });
  const { result, progress } = ended.body;
  expect(result.bytesRead).toBe(result.bytes);
  expect(result.batches).toBeGreaterThan(OBJECTS / BATCH_ENTRIES);
  expect(progress).toMatchObject({ unit: 'batches', done: result.batches, total: result.batches });
  expect(progress.bytesDone).toBe(result.bytesRead);
  expect(callsOf(taskId, BACKUP_STATES.plan)).toBeGreaterThan(1);
  expect(callsOf(taskId, BACKUP_STATES.batch)).toBe(result.batches);
  expect(objectsRead()).toHaveLength(OBJECTS + 1);
  const snapshots = await local.call('GET', `/store-apps/${vaultId}/snapshots`);
  expect(snapshots.body.items).toEqual([expect.objectContaining({ id: result.snapshot, tags: ['e2e'] })]);
}, 300_000);

test('a second backup after a few changes reads only the changed objects', async () => {
  const changed = [3, Math.floor(OBJECTS / 2), OBJECTS - 1].map(objectName);
  for (const key of changed) await put(key, bytesOf(`v2:${key}`, 999));
  counter.take();
  const ended = await backUp();
  expect(ended.body).toMatchObject({
    state: 'succeeded',
    result: { files: OBJECTS + 1, filesRead: changed.length },
  });
  expect(objectsRead()).toEqual(changed.sort());
}, 300_000);

test('the snapshot reads back byte for byte, the large object joined from its ranges', async () => {
  const snapshots = await local.call('GET', `/store-apps/${vaultId}/snapshots`);
  const latest = snapshots.body.items[0].id as string;
  const location = parseLocation(`s3://${BUCKET}/vault`, {
    endpoint: local.s3Endpoint,
    force_path_style: 'true',
    access_key: 'S3RVER',
    secret_access_key: SECRET_KEY,
  });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  try {
    const keys = await keysUnder('data/');
    expect(keys).toHaveLength(OBJECTS + 1);
    await inParallel(keys, async (key) => {
      const parts: Buffer[] = [];
      for await (const part of store.cat(latest, `/s3:${BUCKET}/${key}`)) parts.push(part);
      expect(Buffer.concat(parts).equals(await get(key))).toBe(true);
    });
  } finally {
    await store.close();
  }
}, 300_000);

test('a schedule of a backup fires and its run is a backup task that makes a snapshot', async () => {
  const created = await local.call('POST', '/schedules', {
    name: 'every five minutes',
    expression: 'rate(5 minutes)',
    task: {
      type: 'backup',
      appId: vaultId,
      parameters: { source: { appId: sourceId, path: 'data' }, tags: ['scheduled'] },
    },
  });
  expect(created.status).toBe(201);
  const scheduleId = created.body.id as string;
  let lastRun: { taskId: string } | undefined;
  for (let i = 0; i < 300 && !lastRun; i++) {
    lastRun = (await local.call('GET', `/schedules/${scheduleId}`)).body.lastRun;
    if (!lastRun) await new Promise((resolve) => setTimeout(resolve, 100));
  }
  expect(lastRun).toBeDefined();
  expect(await local.call('POST', `/schedules/${scheduleId}/pause`)).toMatchObject({ status: 200 });
  const ended = await untilEnded(lastRun!.taskId);
  expect(ended.body).toMatchObject({
    type: 'backup',
    appId: vaultId,
    state: 'succeeded',
    principal: `schedule:${scheduleId}`,
  });
  const snapshots = await local.call('GET', `/store-apps/${vaultId}/snapshots?tag=scheduled`);
  expect(snapshots.body.items).toEqual([expect.objectContaining({ id: ended.body.result.snapshot })]);
  expect(await local.call('DELETE', `/schedules/${scheduleId}`)).toMatchObject({ status: 204 });
  // the wait for the run (30 s at most) and for its task (4 minutes at most) bound it: a loaded CI is slow
}, 300_000);

test('a source inside a store is refused when asked for, and no answer or log line holds a secret', async () => {
  const inStore = await local.call('POST', `/store-apps/${vaultId}/backups`, {
    source: { appId: sourceId, path: 'source-store/packs' },
  });
  expect(inStore).toMatchObject({ status: 422, body: { error: { code: 'SOURCE_IN_STORE' } } });
  for (const text of [local.output, ...local.answers]) {
    expect(text).not.toContain(PASSPHRASE);
    expect(text).not.toContain(SECRET_KEY);
  }
});
