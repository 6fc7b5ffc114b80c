/**
 * The tasks API and the task worker as Lambda runs them (dynalite, a real fs store), with a task
 * runner stand-in that drives the worker's handler in-process, step by step, as the task state
 * machine would (start, slices until done, fail on an error), and an event bus stand-in.
 */
import { jest } from '@jest/globals';
import type { APIGatewayProxyEvent, APIGatewayProxyResult, Context } from 'aws-lambda';
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, open, readdir, rm, stat, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { GetObjectCommand, ListObjectsV2Command, PutObjectCommand } from '@aws-sdk/client-s3';
import { createStore, openStore, parseLocation, type CheckReport } from '../../layers/kloset/index.js';
import { installStandIns } from '../../layers/control/runtime/stand-ins.js';
import type { TaskStateChange } from '../../layers/control/tasks/task-events.js';
import type { TaskRecord } from '../../layers/control/tasks/task.js';
import type { TaskRunner, WorkerAnswer, WorkerEvent } from '../../layers/control/tasks/task-runner.js';
import { dynaliteForTests, TABLE_NAME } from '../layers/control/dynalite-table.js';
import { s3rverForTests } from '../layers/kloset/connectors/s3/s3rver.js';
import { capturePrinted, proxyEvent, testContext, useHandlerEnvironment } from './proxy-event.js';

type ApiHandler = (event: APIGatewayProxyEvent, context: Context) => Promise<APIGatewayProxyResult>;
type WorkerHandler = (event: WorkerEvent, context: Context) => Promise<WorkerAnswer>;

const dynamo = dynaliteForTests();
const s3 = s3rverForTests(['kloud-tasks']);
const PASSPHRASE = 'task passphrase never shown';
const FAST_KDF = { algorithm: 'scrypt', N: 1024, r: 8, p: 1 } as const;
const MAX_STEPS = 500;
let dir: string;
let api: Record<'tasks' | 'storeApps' | 'storeActions', ApiHandler>;
let worker: WorkerHandler;
const printed: string[] = [];
const answers: string[] = [];
const events: TaskStateChange[] = [];

const context = testContext('req-tasks', 60_000);

/** The state machine's loop, in-process: start, then slices until an answer says done. */
class InProcessRunner implements TaskRunner {
  readonly started: string[] = [];
  readonly stopped: string[] = [];

  async start(task: TaskRecord): Promise<string> {
    this.started.push(task.id);
    return `arn:aws:states:us-east-1:000000000000:execution:kloud-tasks:${task.id}`;
  }

  async stop(executionArn: string): Promise<void> {
    this.stopped.push(executionArn);
  }

  /** One step as the state machine takes it: an error of the worker goes to its `fail`. */
  async step(event: WorkerEvent): Promise<WorkerAnswer> {
    try {
      return await worker(event, context);
    } catch (err) {
      const error = {
        Error: (err as Error).name,
        Cause: JSON.stringify({ errorMessage: (err as Error).message }),
      };
      return worker({ action: 'fail', taskId: event.taskId, error }, context);
    }
  }

  /** Runs the task to its end; answers the number of slices. */
  async run(taskId: string): Promise<number> {
    let answer = await this.step({ action: 'start', taskId });
    let slices = 0;
    while (!answer.done) {
      if (++slices > MAX_STEPS) throw new Error('the task never ended');
      answer = await this.step({ action: 'slice', taskId });
    }
    return slices;
  }
}
const runner = new InProcessRunner();

const event = proxyEvent;

async function call(fn: ApiHandler, e: APIGatewayProxyEvent) {
  const out = await fn(e, context);
  answers.push(out.body);
  return { status: out.statusCode, body: out.body ? JSON.parse(out.body) : undefined };
}

function startCheck(appId: string, body: unknown = {}, headers: Record<string, string> = {}) {
  return call(
    api.tasks,
    event('POST', '/store-apps/{appId}/checks', {
      pathParameters: { appId },
      body: JSON.stringify(body),
      headers,
    }),
  );
}

const getTask = (taskId: string) =>
  call(api.tasks, event('GET', '/tasks/{taskId}', { pathParameters: { taskId } }));
const listTasks = (query: Record<string, string>) =>
  call(api.tasks, event('GET', '/tasks', { queryStringParameters: query }));

/** Where a test's store is: a directory of the local root, or a prefix of the s3rver bucket. */
type Place = 'fs' | 's3';

/** A ready store app over a store of small packs (one per file) holding one snapshot. */
async function readyApp(
  name: string,
  place: Place = 'fs',
): Promise<{ appId: string; location: string; src: string }> {
  const app =
    place === 'fs'
      ? { resourceId: 'directory:backups', configuration: { path: name } }
      : {
          resourceId: 's3-bucket:kloud-tasks',
          protocol: 's3-compatible',
          configuration: { endpoint: s3.server.endpoint, forcePathStyle: true, prefix: name },
          credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
        };
  const created = await call(
    api.storeApps,
    event('POST', '/store-apps', {
      body: JSON.stringify({ ...app, name, storageType: 'standard', passphrase: PASSPHRASE }),
    }),
  );
  const { id: appId } = created.body as { id: string };
  const location =
    place === 'fs' ? (created.body as { location: string }).location : `s3://kloud-tasks/${name}`;
  await createStore(storeAt(location), {
    passphrase: PASSPHRASE,
    kdf: FAST_KDF,
    packSize: 64 * 1024,
    compression: 'none',
  });
  const src = join(dir, `src-${name}`);
  await mkdir(join(src, 'sub'), { recursive: true });
  for (const file of ['a.bin', 'b.bin', 'c.bin', 'd.bin', 'sub/e.bin'])
    await writeFile(join(src, file), randomBytes(90_000));
  const store = await openStore(storeAt(location), { passphrase: PASSPHRASE });
  await store.backup([src]);
  await store.close();
  const tested = await call(
    api.storeActions,
    event('POST', '/store-apps/{appId}/test', { pathParameters: { appId } }),
  );
  expect(tested.body).toMatchObject({ outcome: 'store', app: { state: 'ready' } });
  return { appId, location, src };
}

function storeAt(location: string) {
  return location.startsWith('s3://') ? parseLocation(location, s3.server.options) : location;
}

async function wholeCheck(location: string): Promise<CheckReport> {
  const store = await openStore(storeAt(location), { passphrase: PASSPHRASE });
  try {
    return await store.check({ readData: true });
  } finally {
    await store.close();
  }
}

const changesOf = (taskId: string) => events.filter((e) => e.taskId === taskId).map((e) => e.state);

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-tasks-'));
  await mkdir(join(dir, 'root', 'backups'), { recursive: true });
  useHandlerEnvironment(TABLE_NAME, dir, dynamo.endpoint, {
    KLOUD_STORE_BUCKETS: '[{"bucket":"kloud-tasks","prefix":""}]',
    // every slice gets 1 ms: each verifies one pack and continues
    KLOUD_TASK_SLICE_MS: '1',
  });
  capturePrinted(printed);
  installStandIns({
    taskRunner: runner,
    taskEvents: { publish: async (change) => void events.push(change) },
  });
  api = {
    tasks: (await import('../../functions/tasks/handler.js')).handler,
    storeApps: (await import('../../functions/store-apps/handler.js')).handler,
    storeActions: (await import('../../functions/store-actions/handler.js')).handler,
  };
  worker = (await import('../../functions/task-worker/handler.js')).handler as unknown as WorkerHandler;
});

afterAll(async () => {
  jest.restoreAllMocks();
  installStandIns({});
  await rm(dir, { recursive: true, force: true });
});

afterAll(() => {
  // no answer and no log line ever holds the passphrase
  expect(answers.join('\n')).not.toContain(PASSPHRASE);
  expect(printed.join('')).not.toContain(PASSPHRASE);
});

test('a check of a sound store succeeds with its report; each state change is an event', async () => {
  const { appId } = await readyApp('sound');
  const created = await startCheck(appId);
  expect(created).toMatchObject({
    status: 202,
    body: { type: 'check', appId, state: 'queued', principal: 'local', parameters: { readData: false } },
  });
  expect(created.body.executionArn).toContain(created.body.id);
  expect(created.body).not.toHaveProperty('checkpoint');
  expect(await runner.run(created.body.id)).toBe(1);
  const { body: task } = await getTask(created.body.id);
  expect(task).toMatchObject({
    state: 'succeeded',
    result: { ok: true, problems: [], stats: { snapshots: 1 } },
  });
  expect(task.startedAt <= task.endedAt).toBe(true);
  expect(changesOf(task.id)).toEqual(['queued', 'running', 'succeeded']);
  expect(events.find((e) => e.taskId === task.id && e.state === 'succeeded')).toMatchObject({
    type: 'check',
    appId,
    previousState: 'running',
  });
});

test('check --read-data continues over many slices to the report of one whole check', async () => {
  const { appId, location } = await readyApp('sliced');
  const created = await startCheck(appId, { readData: true });
  const slices = await runner.run(created.body.id);
  const { body: task } = await getTask(created.body.id);
  const whole = await wholeCheck(location);
  expect(slices).toBeGreaterThan(whole.stats.packs);
  expect(task).toMatchObject({ state: 'succeeded', progress: { unit: 'snapshots' } });
  expect(task.result).toEqual(JSON.parse(JSON.stringify(whole)));
});

test('a flipped byte in a pack fails the check, naming the damaged file', async () => {
  const { appId, location, src } = await readyApp('damaged');
  // the largest pack is a data pack holding one file (each file is one 90 KB chunk, packs are 64 KiB)
  const packs = join(location, 'packs');
  const files = (
    await Promise.all(
      (await readdir(packs)).map(async (prefix) =>
        (await readdir(join(packs, prefix))).map((name) => join(packs, prefix, name)),
      ),
    )
  ).flat();
  const sizes = await Promise.all(files.map(async (file) => (await stat(file)).size));
  const pack = files[sizes.indexOf(Math.max(...sizes))]!;
  const fh = await open(pack, 'r+');
  const byte = Buffer.alloc(1);
  await fh.read(byte, 0, 1, 3000);
  byte[0]! ^= 0xff;
  await fh.write(byte, 0, 1, 3000);
  await fh.close();
  const created = await startCheck(appId, { readData: true });
  await runner.run(created.body.id);
  const { body: task } = await getTask(created.body.id);
  const damaged = (await wholeCheck(location)).problems.flatMap((p) => p.paths);
  expect(damaged).toHaveLength(1);
  expect(damaged[0]).toMatch(new RegExp(`^${src}/`));
  expect(task).toMatchObject({
    state: 'failed',
    failure: { code: 'CHECK_FOUND_PROBLEMS', message: expect.stringContaining(damaged[0]!) },
    result: { ok: false, problems: [expect.objectContaining({ paths: damaged })] },
  });
  expect(changesOf(task.id)).toEqual(['queued', 'running', 'failed']);
  expect(events.find((e) => e.taskId === task.id && e.state === 'failed')!.failure!.code).toBe(
    'CHECK_FOUND_PROBLEMS',
  );
});

test('a cancel stops a running check at its next slice and leaves the store valid', async () => {
  const { appId, location } = await readyApp('cancelled');
  const { body: created } = await startCheck(appId, { readData: true });
  expect(await runner.step({ action: 'start', taskId: created.id })).toEqual({ done: false });
  expect(await runner.step({ action: 'slice', taskId: created.id })).toEqual({ done: false });
  const cancelled = await call(
    api.tasks,
    event('POST', '/tasks/{taskId}/cancel', { pathParameters: { taskId: created.id } }),
  );
  expect(cancelled).toMatchObject({ status: 200, body: { state: 'cancelled' } });
  expect(runner.stopped).toContain(created.executionArn);
  expect(await runner.step({ action: 'slice', taskId: created.id })).toEqual({ done: true });
  const { body: task } = await getTask(created.id);
  expect(task).toMatchObject({ state: 'cancelled' });
  expect(task).not.toHaveProperty('result');
  expect(changesOf(created.id)).toEqual(['queued', 'running', 'cancelled']);
  const again = await call(
    api.tasks,
    event('POST', '/tasks/{taskId}/cancel', { pathParameters: { taskId: created.id } }),
  );
  expect(again).toMatchObject({ status: 409, body: { error: { code: 'TASK_ENDED' } } });
  expect((await wholeCheck(location)).ok).toBe(true);
  // a task cancelled before it started is done at its start
  const { body: queued } = await startCheck(appId);
  await call(api.tasks, event('POST', '/tasks/{taskId}/cancel', { pathParameters: { taskId: queued.id } }));
  expect(await runner.step({ action: 'start', taskId: queued.id })).toEqual({ done: true });
  expect(changesOf(queued.id)).toEqual(['queued', 'cancelled']);
});

test('an Idempotency-Key repeat answers the same task; the key with another body is refused', async () => {
  const { appId } = await readyApp('idempotent');
  const headers = { 'Idempotency-Key': 'ci-run-42' };
  const first = await startCheck(appId, { readData: false }, headers);
  const repeat = await startCheck(appId, { readData: false }, { 'idempotency-key': 'ci-run-42' });
  expect(first.status).toBe(202);
  expect(repeat).toEqual({ status: 200, body: first.body });
  const other = await startCheck(appId, { readData: true }, headers);
  expect(other).toMatchObject({ status: 422, body: { error: { code: 'IDEMPOTENCY_KEY_REUSED' } } });
  expect(runner.started.filter((id) => id === first.body.id)).toHaveLength(1);
});

test('tasks list newest first, filtered by app, state and type, page by page', async () => {
  const { appId } = await readyApp('listed');
  const ids: string[] = [];
  for (let i = 0; i < 3; i++) ids.push((await startCheck(appId)).body.id);
  await runner.run(ids[1]!);
  const seen: string[] = [];
  let nextToken: string | undefined;
  do {
    const page = await listTasks({ appId, limit: '2', ...(nextToken && { nextToken }) });
    expect(page.status).toBe(200);
    seen.push(...page.body.items.map((t: { id: string }) => t.id));
    nextToken = page.body.nextToken;
  } while (nextToken && seen.length < 10);
  expect(seen).toEqual([...ids].reverse());
  const queued = await listTasks({ appId, state: 'queued', type: 'check' });
  expect(queued.body.items.map((t: { id: string }) => t.id)).toEqual([ids[2], ids[0]]);
  const everyApp = await listTasks({ state: 'succeeded', limit: '100' });
  expect(everyApp.body.items.map((t: { id: string }) => t.id)).toContain(ids[1]);
  expect(everyApp.body.items.every((t: { state: string }) => t.state === 'succeeded')).toBe(true);
});

test('bad input on every task route is a 4xx that says what is wrong', async () => {
  const { appId } = await readyApp('refusals');
  const unknownApp = '00000000-0000-4000-8000-000000000000';
  const unknownTask = '00000000-0000-7000-8000-000000000000';
  const cases: [
    Promise<{ status: number; body: { error: { code: string; message: string } } }>,
    number,
    RegExp,
  ][] = [
    [startCheck('not-an-id'), 400, /path\.appId: expected a store app ID/],
    [startCheck(appId, { readData: true, deep: 1 }), 400, /body: unknown field "deep"/],
    [startCheck(appId, { readData: 'yes' }), 400, /body\.readData/],
    [startCheck(appId, {}, { 'Idempotency-Key': 'has space' }), 400, /header Idempotency-Key/],
    [startCheck(appId, {}, { 'Idempotency-Key': 'k'.repeat(129) }), 400, /header Idempotency-Key/],
    [startCheck(unknownApp), 404, /no store app/],
    [listTasks({ state: 'finished' }), 400, /query\.state/],
    [listTasks({ type: 'defragment' }), 400, /query\.type/],
    [listTasks({ appId: 'x' }), 400, /query\.appId/],
    [listTasks({ limit: '0' }), 400, /limit must be at least 1/],
    [listTasks({ nextToken: 'not-a-token' }), 400, /nextToken/],
    [listTasks({ sort: 'asc' }), 400, /unknown field "sort"/],
    [getTask('42'), 400, /expected a task ID/],
    [getTask(unknownTask), 404, /no task/],
    [
      call(api.tasks, event('POST', '/tasks/{taskId}/cancel', { pathParameters: { taskId: unknownTask } })),
      404,
      /no task/,
    ],
    [
      call(api.tasks, event('POST', '/tasks/{taskId}/cancel', { pathParameters: { taskId: 'x' } })),
      400,
      /expected a task ID/,
    ],
  ];
  for (const [answer, status, message] of cases) {
    const { status: got, body } = await answer;
    expect({ got, message: body.error.message }).toEqual({
      got: status,
      message: expect.stringMatching(message),
    });
  }
  // an app that is not ready yet
  const created = await call(
    api.storeApps,
    event('POST', '/store-apps', {
      body: JSON.stringify({
        resourceId: 'directory:backups',
        name: 'new',
        storageType: 'standard',
        passphrase: PASSPHRASE,
      }),
    }),
  );
  expect(await startCheck(created.body.id)).toMatchObject({
    status: 409,
    body: { error: { code: 'APP_NOT_READY' } },
  });
  // a sync with itself, or with a peer that is not ready, is refused when asked for: no task made
  const { appId: source } = await readyApp('sync-source');
  const sync = (peerAppId: string) =>
    call(
      api.tasks,
      event('POST', '/store-apps/{appId}/syncs', {
        pathParameters: { appId: source },
        body: JSON.stringify({ peerAppId }),
      }),
    );
  const self = await sync(source);
  expect(self).toMatchObject({ status: 422, body: { error: { code: 'INVALID_INPUT' } } });
  expect(self.body.error.message).toContain('cannot sync with itself');
  expect(await sync(created.body.id)).toMatchObject({
    status: 409,
    body: { error: { code: 'APP_NOT_READY' } },
  });
  const listed = await call(
    api.tasks,
    event('GET', '/tasks', { queryStringParameters: { appId: source, type: 'sync' } }),
  );
  expect(listed.body.items).toEqual([]);
});

test("a failing slice records the engine's answer; an unexpected error points to the logs, not its text", async () => {
  const { appId, location } = await readyApp('broken');
  const { body: created } = await startCheck(appId);
  // the store's config removed: opening it fails with an engine error the user can act on
  await rm(join(location, 'config'));
  await runner.run(created.id);
  const { body: task } = await getTask(created.id);
  expect(task).toMatchObject({
    state: 'failed',
    failure: { code: 'NOT_A_STORE', message: expect.stringContaining('not a Kloset store') },
  });
  const lost = {
    action: 'fail',
    taskId: (await startCheck(appId)).body.id,
    error: { Error: 'TypeError', Cause: 'x is undefined at /var/task/index.mjs' },
  } as const;
  await runner.step(lost);
  expect((await getTask(lost.taskId)).body.failure).toEqual({
    code: 'INTERNAL',
    message: `the task failed unexpectedly; the logs have it under task ID ${lost.taskId}`,
  });
});

test('a read-data check of a store on S3 runs in slices; a flipped byte in a pack object names the file', async () => {
  const { appId, location } = await readyApp('ons3', 's3');
  const sound = (await startCheck(appId, { readData: true })).body;
  expect(await runner.run(sound.id)).toBeGreaterThan(1);
  expect((await getTask(sound.id)).body).toMatchObject({ state: 'succeeded', result: { ok: true } });
  const listed = await s3.raw.send(
    new ListObjectsV2Command({ Bucket: 'kloud-tasks', Prefix: 'ons3/packs/' }),
  );
  // the largest pack object is a data pack holding one file
  const key = listed.Contents!.reduce((a, b) => ((b.Size ?? 0) > (a.Size ?? 0) ? b : a)).Key!;
  const object = await s3.raw.send(new GetObjectCommand({ Bucket: 'kloud-tasks', Key: key }));
  const bytes = Buffer.from(await object.Body!.transformToByteArray());
  bytes[3000]! ^= 0xff;
  await s3.raw.send(new PutObjectCommand({ Bucket: 'kloud-tasks', Key: key, Body: bytes }));
  const damaged = (await wholeCheck(location)).problems.flatMap((p) => p.paths);
  expect(damaged).toHaveLength(1);
  const check = (await startCheck(appId, { readData: true })).body;
  await runner.run(check.id);
  expect((await getTask(check.id)).body).toMatchObject({
    state: 'failed',
    failure: { code: 'CHECK_FOUND_PROBLEMS', message: expect.stringContaining(damaged[0]!) },
  });
});
