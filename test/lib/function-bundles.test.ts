/**
 * The deployed functions' code as Lambda gets it: each synthesized asset copied into an empty
 * folder outside the repository (no node_modules to fall back on), its native binaries checked
 * for the function's architecture, and its handler run under plain node in a child process
 * against dynalite, creating a real store through the engine inside the bundle.
 */
import { execFile } from 'node:child_process';
import { cpSync, mkdirSync, mkdtempSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, test } from '@jest/globals';
import { createControlTable, type DynaliteHandle, startDynalite } from '../../local/dynalite-server.js';
import { type SynthesizedStack, synthesizeStack } from './synthesized-stack.js';

const run = promisify(execFile);

/** e_machine of an ELF header (offset 18, little-endian) for each Lambda architecture. */
const ELF_MACHINE: Record<string, number> = { x86_64: 0x3e, arm64: 0xb7 };
const HOST_ARCHITECTURE = process.arch === 'x64' ? 'x86_64' : process.arch;
const TABLE = 'kloud-bundle-test';
/**
 * Options of the kind Lambda's Node bootstrap starts node with (its exact list is not published;
 * these are the ones seen in its bootstrap script): worker threads inherit them.
 */
const LAMBDA_NODE_OPTIONS = [
  '--expose-gc',
  '--max-http-header-size',
  '81920',
  '--max-semi-space-size=16',
  '--max-old-space-size=870',
];

interface UnpackedFunction {
  readonly architecture: string;
  readonly dir: string;
  /** the environment the stack gives it, references to other resources left out */
  readonly environment: Record<string, string>;
}

interface FunctionProps {
  readonly Code: { readonly S3Key: string };
  readonly Architectures: [string];
  readonly Environment: { readonly Variables: Record<string, unknown> };
}

/** What a script run in a bundle prints last: an API response, or a worker's reply. */
interface Printed {
  readonly statusCode?: number;
  readonly body?: Record<string, unknown>;
  readonly id?: number;
}

let synthesized: SynthesizedStack;
let work: string;
let dynamo: DynaliteHandle;
const unpacked: Record<string, UnpackedFunction> = {};

beforeAll(async () => {
  // environment-agnostic, as `cdk synth` without credentials makes it
  synthesized = synthesizeStack(
    { storeBuckets: [{ bucket: 'team-stores', prefix: 'kloud/' }], env: {} },
    { cfnValidation: false },
  );
  work = mkdtempSync(join(tmpdir(), 'kloud-bundles-'));
  const resources = synthesized.template.toJSON().Resources as Record<
    string,
    { Type: string; Properties: FunctionProps }
  >;
  for (const [id, { Type, Properties }] of Object.entries(resources)) {
    if (Type !== 'AWS::Lambda::Function') continue;
    const name = id.replace(/Function[0-9A-F]{8}$/, '');
    const asset = `asset.${Properties.Code.S3Key.replace(/\.zip$/, '')}`;
    const dir = join(work, name);
    cpSync(join(synthesized.outdir, asset), dir, { recursive: true });
    const variables = Properties.Environment.Variables;
    unpacked[name] = {
      architecture: Properties.Architectures[0],
      dir,
      environment: Object.fromEntries(
        Object.entries(variables).filter((entry): entry is [string, string] => typeof entry[1] === 'string'),
      ),
    };
  }
  dynamo = await startDynalite();
  await createControlTable(dynamo.endpoint, TABLE);
});

afterAll(async () => {
  await dynamo?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
  if (synthesized) rmSync(synthesized.outdir, { recursive: true, force: true });
});

function filesUnder(dir: string): string[] {
  return readdirSync(dir, { recursive: true, withFileTypes: true })
    .filter((entry) => entry.isFile())
    .map((entry) => join(entry.parentPath, entry.name));
}

let scripts = 0;

/**
 * Runs `script` (an ES module) under plain node with the bundle's folder as cwd; returns what it
 * printed last, parsed. The script is a file outside the bundle: with `node -e`, worker threads
 * would inherit `--input-type` and refuse to start.
 */
async function inBundle(fn: UnpackedFunction, script: string, nodeOptions: string[] = []): Promise<Printed> {
  const file = join(work, `script-${++scripts}.mjs`);
  writeFileSync(file, script);
  const { stdout } = await run(process.execPath, [...nodeOptions, file], {
    cwd: fn.dir,
    timeout: 60_000,
    env: {
      PATH: process.env.PATH,
      HOME: work,
      AWS_REGION: 'eu-west-1',
      AWS_ACCESS_KEY_ID: 'test',
      AWS_SECRET_ACCESS_KEY: 'test',
      AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      AWS_ENDPOINT_URL_DYNAMODB: dynamo.endpoint,
      ...fn.environment,
      KLOUD_TABLE_NAME: TABLE,
      KLOUD_SECRETS_FILE: join(work, 'secrets.json'),
      KLOUD_LOCAL_ROOT: join(work, 'directories'),
      KLOUD_CACHE_DIR: join(work, 'cache'),
      // a reference in the template; store-browse reaches it only for a large download
      KLOUD_STAGING_BUCKET: 'kloud-staging',
      // references in the template; the tasks API reaches them only to start a task
      KLOUD_TASK_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:kloud-tasks',
      KLOUD_BACKUP_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:kloud-backups',
      KLOUD_RESTORE_STATE_MACHINE_ARN: 'arn:aws:states:eu-west-1:111122223333:stateMachine:kloud-restores',
      POWERTOOLS_LOG_LEVEL: 'ERROR',
    },
  });
  return JSON.parse(stdout.trim().split('\n').at(-1)!) as Printed;
}

/** A script that sends one API Gateway proxy event to the bundle's handler and prints the response. */
function request(
  method: string,
  resource: string,
  pathParameters: Record<string, string> | null,
  body?: unknown,
) {
  const path = resource.replace(/\{(\w+)\}/g, (_, p: string) => pathParameters![p]!);
  const event = {
    resource,
    path,
    httpMethod: method,
    headers: { 'content-type': 'application/json' },
    multiValueHeaders: {},
    queryStringParameters: null,
    multiValueQueryStringParameters: null,
    pathParameters,
    stageVariables: null,
    body: body === undefined ? null : JSON.stringify(body),
    isBase64Encoded: false,
    requestContext: { requestId: 'bundle-test', resourcePath: resource, httpMethod: method, stage: 'v1' },
  };
  return `
    const { handler } = await import(new URL('./index.mjs', 'file://' + process.cwd() + '/').href);
    const context = { awsRequestId: 'bundle-test', functionName: 'kloud', functionVersion: '1',
      invokedFunctionArn: 'arn:aws:lambda:eu-west-1:111122223333:function:kloud', memoryLimitInMB: '1024',
      getRemainingTimeInMillis: () => 29000 };
    const response = await handler(${JSON.stringify(event)}, context);
    console.log(JSON.stringify({ statusCode: response.statusCode, body: JSON.parse(response.body ?? 'null') }));`;
}

/** The packages the bundling leaves external: a bundle that names one must carry it. */
const EXTERNAL_PACKAGES = ['zstd-napi', '@mongodb-js/zstd'];

describe('each function bundle', () => {
  test('is one ES module with the worker entries it starts beside it', () => {
    expect(Object.keys(unpacked).sort()).toEqual([
      'Inventories',
      'ScheduledTask',
      'SchedulesApi',
      'StoreActions',
      'StoreApps',
      'StoreBrowse',
      'TaskWorker',
      'TasksApi',
    ]);
    for (const fn of Object.values(unpacked)) {
      const files = readdirSync(fn.dir);
      expect(files).toContain('index.mjs');
      const main = readFileSync(join(fn.dir, 'index.mjs'), 'utf8');
      const started = [...main.matchAll(/new URL\("\.\/([\w-]+\.js)",import\.meta\.url\)/g)].map(
        ([, file]) => file,
      );
      for (const file of started) expect(files).toContain(file);
      if (started.length > 0)
        expect(JSON.parse(readFileSync(join(fn.dir, 'package.json'), 'utf8'))).toEqual({ type: 'module' });
    }
    for (const engine of ['StoreActions', 'TaskWorker']) {
      expect(readFileSync(join(unpacked[engine]!.dir, 'index.mjs'), 'utf8')).toContain('./seal-worker.js');
    }
    // the tasks and schedules functions run no engine: their bundles stay small
    for (const name of ['TasksApi', 'SchedulesApi', 'ScheduledTask'])
      expect(readdirSync(unpacked[name]!.dir)).toEqual(['index.mjs']);
  });

  test('carries every package it leaves external, as far as the code names it', () => {
    for (const fn of Object.values(unpacked)) {
      const code = readdirSync(fn.dir)
        .filter((file) => /\.m?js$/.test(file))
        .map((file) => readFileSync(join(fn.dir, file), 'utf8'))
        .join('\n');
      for (const name of EXTERNAL_PACKAGES) {
        if (code.includes(`"${name}"`) || code.includes(`"${name}/`)) {
          expect(readdirSync(join(fn.dir, 'node_modules', name))).toContain('package.json');
        }
      }
    }
    const natives = filesUnder(unpacked.StoreActions!.dir).map((file) =>
      file.slice(unpacked.StoreActions!.dir.length + 1),
    );
    expect(natives).toEqual(
      expect.arrayContaining([
        'node_modules/zstd-napi/build/Release/binding.node',
        'node_modules/@mongodb-js/zstd-linux-x64-gnu/zstd.linux-x64-gnu.node',
      ]),
    );
  });

  test("carries native binaries only for the function's architecture", () => {
    for (const fn of Object.values(unpacked)) {
      for (const file of filesUnder(fn.dir).filter((f) => f.endsWith('.node'))) {
        const header = readFileSync(file).subarray(0, 20);
        expect(header.subarray(0, 4).toString('latin1')).toBe('\x7fELF');
        expect(header.readUInt16LE(18)).toBe(ELF_MACHINE[fn.architecture]);
      }
    }
  });
});

const onHost = (name: string) => (unpacked[name]?.architecture ?? HOST_ARCHITECTURE) === HOST_ARCHITECTURE;

describe('the bundled handlers under plain node', () => {
  test('inventories lists the integrations', async () => {
    if (!onHost('Inventories')) return;
    const response = await inBundle(unpacked.Inventories!, request('GET', '/integrations', null));
    expect(response.statusCode).toBe(200);
    expect(JSON.stringify(response.body)).toContain('directory');
  });

  test('store-apps adds an app; store-actions tests its location, creates the store, and finds it; store-browse lists its snapshots', async () => {
    if (!onHost('StoreApps') || !onHost('StoreActions') || !onHost('StoreBrowse')) return;
    mkdirSync(join(work, 'directories', 'backups'), { recursive: true });
    const created = await inBundle(
      unpacked.StoreApps!,
      request('POST', '/store-apps', null, {
        resourceId: 'directory:backups',
        name: 'bundled',
        storageType: 'standard',
        configuration: { path: 'team' },
        passphrase: 'a long passphrase for the bundle test',
      }),
    );
    expect(created.statusCode).toBe(201);
    const appId = created.body!.id as string;
    const action = (verb: string) =>
      inBundle(unpacked.StoreActions!, request('POST', `/store-apps/{appId}/${verb}`, { appId }));

    const before = await action('test');
    expect(before.statusCode).toBe(200);
    const initialized = await action('initialize');
    expect(initialized.statusCode).toBe(201);
    const after = await action('test');
    expect(after).toMatchObject({ statusCode: 200, body: { outcome: 'store' } });
    expect(readdirSync(join(work, 'directories', 'backups', 'team'))).toContain('config');
    const snapshots = await inBundle(
      unpacked.StoreBrowse!,
      request('GET', '/store-apps/{appId}/snapshots', { appId }),
    );
    expect(snapshots).toEqual({ statusCode: 200, body: { items: [] } });
    const tasks = await inBundle(unpacked.TasksApi!, request('GET', '/tasks', null));
    expect(tasks).toEqual({ statusCode: 200, body: { items: [] } });
  });

  test('a worker thread starts from the bundle and answers through its native code', async () => {
    if (!onHost('StoreActions')) return;
    const answer = await inBundle(
      unpacked.StoreActions!,
      `
      import { Worker } from 'node:worker_threads';
      const worker = new Worker(new URL('./verify-worker.js', 'file://' + process.cwd() + '/'), {
        workerData: { cipher: { algorithm: 'none' }, macKey: new Uint8Array(32) },
        resourceLimits: { maxYoungGenerationSizeMb: 4 },
      });
      const empty = { ids: new Uint8Array(0), types: new Uint8Array(0), offsets: new Uint32Array(0),
        lengths: new Uint32Array(0), rawLengths: new Uint32Array(0) };
      worker.postMessage({ id: 1, body: { name: 'not-a-pack', data: new Uint8Array(64), ...empty } });
      const [reply] = await Promise.race([
        import('node:events').then(({ once }) => once(worker, 'message')),
        import('node:events').then(({ once }) => once(worker, 'error').then(([err]) => { throw err; })),
      ]);
      await worker.terminate();
      console.log(JSON.stringify(reply));`,
      LAMBDA_NODE_OPTIONS,
    );
    expect(answer).toMatchObject({ id: 1, body: { verdict: { unreadable: expect.any(String) } } });
  });
});
