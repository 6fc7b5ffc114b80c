/**
 * The control plane end to end in local mode, through HTTP, against dynalite and s3rver: the user
 * story (inventory, add a store app, test, initialize, back up with the CLI, a second app, a wrong
 * passphrase, delete), bad input on every route, a restart, and no secret in any log line or answer.
 */
import { ListObjectsV2Command, S3Client } from '@aws-sdk/client-s3';
import { mkdtemp, rm, stat, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runProcess, KLOUD } from '../cli/sandbox.js';
import { LocalMode } from './local-mode.js';

const BUCKET = 'kloud-e2e';
const PASSPHRASE = 'e2e passphrase never logged';
const WRONG_PASSPHRASE = 'another passphrase never logged';
/** s3rver checks only the access key: the secret key can be one that must never be printed */
const SECRET_KEY = 'e2e-secret-key-never-logged';
const SECRETS = [PASSPHRASE, WRONG_PASSPHRASE, SECRET_KEY];

process.env.AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED ??= 'true';

let dir: string;
let local: LocalMode;
const outputs: string[] = [];
const answers: string[] = [];

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'kloud-local-e2e-'));
  local = new LocalMode(join(dir, 'data'), ['--s3', '--bucket', BUCKET]);
  await local.start();
});

afterAll(async () => {
  await local?.stop();
  await rm(dir, { recursive: true, force: true });
});

function s3App(name: string, passphrase: string, extra: Record<string, unknown> = {}) {
  return {
    resourceId: `s3-bucket:${BUCKET}`,
    name,
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint: local.s3Endpoint, forcePathStyle: true, prefix: 'team/main' },
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: SECRET_KEY },
    passphrase,
    ...extra,
  };
}

let appId = '';
let secondId = '';

test('the user story: inventory, add, test, initialize, CLI backup, second app, wrong passphrase, delete', async () => {
  // the first start shows the token once, and the story's curl commands
  expect(local.output).toContain(`token: ${local.token}\n`);
  expect(local.output).toContain(`api -X POST $KLOUD_URL/store-apps -d '{"resourceId":"s3-bucket:${BUCKET}"`);
  const inventories = await local.call('GET', '/inventories');
  expect(inventories.status).toBe(200);
  expect(inventories.body.items.map((i: { id: string }) => i.id)).toEqual(['s3', 'sftp', 'directories']);

  const resources = await local.call('GET', '/inventories/s3/resources');
  expect(resources.body.items).toContainEqual(
    expect.objectContaining({ id: `s3-bucket:${BUCKET}`, class: 'storage', subClass: 's3-bucket' }),
  );
  const integrations = await local.call('GET', `/integrations?resourceId=s3-bucket:${BUCKET}`);
  expect(integrations.body.items).toEqual([
    expect.objectContaining({ id: 's3', protocols: ['s3', 's3-compatible'] }),
  ]);

  const noProtocol = await local.call(
    'POST',
    '/store-apps',
    s3App('main', PASSPHRASE, { protocol: undefined }),
  );
  expect(noProtocol).toMatchObject({ status: 422, body: { error: { code: 'CHOOSE_PROTOCOL' } } });
  expect(noProtocol.body.error.message).toContain('pick one of s3, s3-compatible');

  const created = await local.call('POST', '/store-apps', s3App('main', PASSPHRASE));
  expect(created).toMatchObject({
    status: 201,
    body: {
      name: 'main',
      integration: 's3',
      state: 'created',
      location: `s3://${BUCKET}/team/main`,
      hasCredentials: true,
    },
  });
  appId = created.body.id;

  const empty = await local.call('POST', `/store-apps/${appId}/test`);
  expect(empty).toMatchObject({ status: 200, body: { outcome: 'empty', app: { state: 'tested' } } });
  const initialized = await local.call('POST', `/store-apps/${appId}/initialize`);
  expect(initialized).toMatchObject({ status: 201, body: { outcome: 'store', app: { state: 'ready' } } });
  const again = await local.call('POST', `/store-apps/${appId}/initialize`);
  expect(again).toMatchObject({ status: 409, body: { error: { code: 'STORE_EXISTS' } } });
  const store = await local.call('POST', `/store-apps/${appId}/test`);
  expect(store).toMatchObject({ status: 200, body: { outcome: 'store', app: { state: 'ready' } } });

  // the CLI backs up into the location the app initialized
  const data = join(dir, 'data-to-back-up');
  await mkdir(data, { recursive: true });
  await writeFile(join(data, 'notes.txt'), 'backed up through the CLI\n');
  const cli = await runProcess(
    process.execPath,
    [
      KLOUD,
      'at',
      `s3://${BUCKET}/team/main?endpoint=${local.s3Endpoint}&force_path_style=true`,
      'backup',
      data,
      '--json',
    ],
    {
      cwd: dir,
      env: {
        PATH: process.env.PATH ?? '',
        HOME: dir,
        KLOUD_PASSPHRASE: PASSPHRASE,
        AWS_ACCESS_KEY_ID: 'S3RVER',
        AWS_SECRET_ACCESS_KEY: SECRET_KEY,
        AWS_REGION: 'us-east-1',
        AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
      },
    },
  );
  expect([cli.code, cli.stderr]).toEqual([0, '']);
  expect(JSON.parse(cli.stdout)).toMatchObject({ errors: [], summary: { files: 1 } });

  // a second app on the same resource, with another name and the wrong passphrase
  const taken = await local.call('POST', '/store-apps', s3App('main', WRONG_PASSPHRASE));
  expect(taken).toMatchObject({ status: 409, body: { error: { code: 'NAME_TAKEN' } } });
  const second = await local.call(
    'POST',
    '/store-apps',
    s3App('second', WRONG_PASSPHRASE, { storageType: 'cold' }),
  );
  expect(second).toMatchObject({ status: 201, body: { name: 'second', storageType: 'cold' } });
  secondId = second.body.id;
  const wrong = await local.call('POST', `/store-apps/${secondId}/test`);
  expect(wrong).toMatchObject({
    status: 200,
    body: { outcome: 'wrong-passphrase', code: 'WRONG_PASSPHRASE', app: { state: 'failed' } },
  });
  expect(wrong.body.message).toMatch(
    /^the passphrase does not open the store at s3:\/\/kloud-e2e\/team\/main: /,
  );
  expect((await local.call('GET', `/store-apps/${secondId}`)).body.lastTest).toMatchObject({
    outcome: 'wrong-passphrase',
  });

  const list = await local.call('GET', '/store-apps?limit=1');
  expect(list.body.items).toHaveLength(1);
  const rest = await local.call('GET', `/store-apps?limit=1&nextToken=${list.body.nextToken}`);
  expect([...list.body.items, ...rest.body.items].map((a: { name: string }) => a.name)).toEqual([
    'main',
    'second',
  ]);

  // deleting an app leaves its store's objects where they are
  expect((await local.call('DELETE', `/store-apps/${appId}`)).status).toBe(204);
  expect(await local.call('GET', `/store-apps/${appId}`)).toMatchObject({
    status: 404,
    body: { error: { code: 'APP_NOT_FOUND' } },
  });
  const s3 = new S3Client({
    endpoint: local.s3Endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: 'S3RVER', secretAccessKey: 'S3RVER' },
  });
  const objects = await s3.send(new ListObjectsV2Command({ Bucket: BUCKET, Prefix: 'team/main/' }));
  s3.destroy();
  const keys = (objects.Contents ?? []).map((o) => o.Key);
  expect(keys).toContain('team/main/config');
  expect(keys.some((k) => k!.startsWith('team/main/packs/'))).toBe(true);
});

test('a directory resource: an fs store app initialized in local mode', async () => {
  const created = await local.call('POST', '/store-apps', {
    resourceId: 'directory:backups',
    name: 'disk',
    storageType: 'standard',
    configuration: { path: 'laptop' },
    passphrase: PASSPHRASE,
  });
  expect(created).toMatchObject({ status: 201, body: { integration: 'fs', protocol: 'fs' } });
  const tested = await local.call('POST', `/store-apps/${created.body.id}/test`);
  expect(tested).toMatchObject({ body: { outcome: 'empty', app: { state: 'tested' } } });
  expect(await local.call('POST', `/store-apps/${created.body.id}/initialize`)).toMatchObject({
    status: 201,
  });
  expect((await stat(join(dir, 'data', 'directories', 'backups', 'laptop', 'config'))).isFile()).toBe(true);
});

test('bad input on every route is a 4xx a user can act on, never a 5xx', async () => {
  const missing = '00000000-0000-0000-0000-000000000000';
  const cases: [string, string, unknown, number, RegExp][] = [
    ['GET', '/inventories?limit=0', undefined, 400, /query\.limit: limit must be at least 1/],
    ['GET', '/inventories?colour=red', undefined, 400, /query: unknown field "colour"/],
    [
      'GET',
      '/inventories/nowhere/resources',
      undefined,
      404,
      /no inventory "nowhere": one of s3, sftp, directories/,
    ],
    [
      'GET',
      '/inventories/s3/resources?nextToken=garbage',
      undefined,
      400,
      /nextToken is not one this list gave/,
    ],
    ['GET', '/sftp-servers?limit=many', undefined, 400, /query\.limit: limit must be a whole number/],
    ['POST', '/sftp-servers', { host: 'h', user: 'u' }, 400, /body\.hostKey: required/],
    ['POST', '/sftp-servers', { host: 'h', user: 'u', hostKey: 'not a key' }, 400, /ssh-keyscan/],
    [
      'POST',
      '/sftp-servers',
      { host: 'h', user: 'u', hostKey: 'ssh-ed25519 AAAA', port: '22' },
      400,
      /body\.port: /,
    ],
    ['DELETE', `/sftp-servers/${missing}`, undefined, 404, /no registered SFTP server/],
    ['DELETE', '/sftp-servers/x', undefined, 400, /path\.serverId: expected a server ID/],
    [
      'GET',
      '/integrations?resourceId=bucket',
      undefined,
      400,
      /query\.resourceId: expected s3-bucket:BUCKET/,
    ],
    [
      'POST',
      '/store-apps',
      {},
      400,
      /body\.resourceId: required; body\.name: required; body\.storageType: required/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), colour: 'red' },
      400,
      /body: unknown field "colour"/,
    ],
    ['POST', '/store-apps', { ...s3App('x', PASSPHRASE), name: 42 }, 400, /body\.name: /],
    [
      'POST',
      '/store-apps',
      s3App('x', 'short'),
      400,
      /body\.passphrase: the passphrase must have at least 8 characters/,
    ],
    ['POST', '/store-apps', '{"name": ', 400, /body: not valid JSON/],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), protocol: 'ftp' },
      422,
      /has no protocol "ftp": use one of s3, s3-compatible/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), integration: 'sftp' },
      422,
      /integration "sftp" cannot serve a s3-bucket: use one of s3/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), configuration: { prefix: '../up' } },
      422,
      /configuration\.prefix: expected a key prefix/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), configuration: { endpoint: 'ftp://x' } },
      422,
      /configuration\.endpoint: expected http\(s\):\/\/host/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), configuration: { endpoint: 'http://h', bucket: 'b' } },
      422,
      /configuration: unknown field "bucket"/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), credentials: { accessKeyId: 'a' } },
      422,
      /credentials\.secretAccessKey: required/,
    ],
    [
      'POST',
      '/store-apps',
      // the allow-list is the deployment's own buckets: the s3 protocol's (s3-compatible reaches another service)
      {
        ...s3App('x', PASSPHRASE),
        resourceId: 's3-bucket:not-allowed-here',
        protocol: 's3',
        configuration: { prefix: 'team/main' },
      },
      403,
      /outside the store locations this deployment may use \(s3:\/\/kloud-e2e\/\)/,
    ],
    [
      'POST',
      '/store-apps',
      { ...s3App('x', PASSPHRASE), resourceId: 's3-bucket:Bad_Bucket' },
      422,
      /"Bad_Bucket" is not a valid bucket name/,
    ],
    [
      'POST',
      '/store-apps',
      {
        ...s3App('x', PASSPHRASE),
        resourceId: 'directory:nope',
        protocol: undefined,
        configuration: {},
        credentials: undefined,
      },
      404,
      /no directory resource "nope"/,
    ],
    [
      'POST',
      '/store-apps',
      {
        ...s3App('x', PASSPHRASE),
        resourceId: `sftp-server:${missing}`,
        protocol: undefined,
        configuration: { path: '/srv' },
        credentials: undefined,
      },
      404,
      /no registered SFTP server/,
    ],
    [
      'POST',
      '/store-apps',
      {
        resourceId: 'directory:backups',
        name: 'y',
        storageType: 'standard',
        passphrase: PASSPHRASE,
        credentials: { password: 'p' },
      },
      422,
      /credentials: the fs protocol takes none/,
    ],
    ['POST', '/store-apps', s3App('x'.repeat(70_000), PASSPHRASE), 413, /larger than 65536 bytes/],
    ['GET', '/store-apps?nextToken=eyJ4IjoiMSJ9', undefined, 400, /nextToken is not one this list gave/],
    ['GET', `/store-apps/${missing}`, undefined, 404, /no store app 0{8}-/],
    ['GET', '/store-apps/not-an-id', undefined, 400, /path\.appId: expected a store app ID/],
    ['PATCH', `/store-apps/${secondId}`, {}, 400, /body: give at least one field to change/],
    ['PATCH', `/store-apps/${secondId}`, { location: 's3://x' }, 400, /body: unknown field "location"/],
    ['PATCH', `/store-apps/${secondId}`, { storageType: 'warm' }, 400, /body\.storageType: /],
    [
      'PATCH',
      `/store-apps/${secondId}`,
      { configuration: { endpoint: 'http://h', prefix: 'a//b' } },
      422,
      /configuration\.prefix/,
    ],
    ['PATCH', `/store-apps/${missing}`, { name: 'z' }, 404, /no store app/],
    ['DELETE', `/store-apps/${missing}`, undefined, 404, /no store app/],
    ['POST', `/store-apps/${missing}/test`, undefined, 404, /no store app/],
    ['POST', `/store-apps/${secondId}/test`, { please: true }, 400, /this request takes no body/],
    ['POST', `/store-apps/${missing}/initialize`, undefined, 404, /no store app/],
    ['PUT', '/store-apps', undefined, 405, /PUT is not a method of \/store-apps/],
    ['GET', '/nothing-here', undefined, 404, /no route \/nothing-here/],
  ];
  const failures: string[] = [];
  for (const [method, path, body, status, message] of cases) {
    const answer = await local.call(method, path, body);
    const text = answer.body?.error?.message ?? '';
    if (answer.status !== status || !message.test(text))
      failures.push(`${method} ${path}: ${answer.status} ${JSON.stringify(answer.body)}`);
  }
  expect(failures).toEqual([]);

  const noToken = await local.call('GET', '/store-apps', undefined, {});
  expect(noToken).toMatchObject({ status: 401, body: { error: { code: 'UNAUTHORIZED' } } });
  const badToken = await local.call('GET', '/store-apps', undefined, { authorization: 'Bearer wrong' });
  expect(badToken.status).toBe(401);
});

test('SFTP servers: register, list as resources, add an app with its host key, forget', async () => {
  const hostKey = `ssh-ed25519 ${'A'.repeat(68)}`;
  const registered = await local.call('POST', '/sftp-servers', {
    host: 'backup.example',
    user: 'kloud',
    hostKey,
  });
  expect(registered).toMatchObject({ status: 201, body: { host: 'backup.example', port: 22 } });
  const resources = await local.call('GET', '/inventories/sftp/resources');
  expect(resources.body.items).toEqual([
    expect.objectContaining({ id: `sftp-server:${registered.body.id}`, name: 'kloud@backup.example:22' }),
  ]);
  const base = {
    resourceId: `sftp-server:${registered.body.id}`,
    name: 'offsite',
    storageType: 'cold',
    configuration: { path: '/srv/kloud' },
    passphrase: PASSPHRASE,
  };
  expect(await local.call('POST', '/store-apps', { ...base, credentials: {} })).toMatchObject({
    status: 422,
    body: { error: { message: expect.stringMatching(/credentials: give privateKey or password/) } },
  });
  const app = await local.call('POST', '/store-apps', { ...base, credentials: { password: SECRET_KEY } });
  expect(app).toMatchObject({
    status: 201,
    body: { location: 'sftp://kloud@backup.example/srv/kloud', protocol: 'sftp' },
  });
  expect((await local.call('DELETE', `/sftp-servers/${registered.body.id}`)).status).toBe(204);
  expect((await local.call('GET', '/sftp-servers')).body.items).toEqual([]);
  expect((await local.call('DELETE', `/store-apps/${app.body.id}`)).status).toBe(204);
});

test('an update that moves the app sends it back to created; a rename keeps names unique', async () => {
  const moved = await local.call('PATCH', `/store-apps/${secondId}`, {
    configuration: { endpoint: local.s3Endpoint, forcePathStyle: true, prefix: 'team/other' },
  });
  expect(moved).toMatchObject({
    status: 200,
    body: { state: 'created', location: `s3://${BUCKET}/team/other` },
  });
  expect(moved.body.lastTest).toBeUndefined();
  expect((await local.call('PATCH', `/store-apps/${secondId}`, { name: 'renamed' })).body.name).toBe(
    'renamed',
  );
  const reuse = await local.call('POST', '/store-apps', s3App('second', PASSPHRASE));
  expect(reuse.status).toBe(201);
  expect(await local.call('PATCH', `/store-apps/${reuse.body.id}`, { name: 'renamed' })).toMatchObject({
    status: 409,
    body: { error: { code: 'NAME_TAKEN' } },
  });
});

test('after a restart on the same data directory the apps are still there', async () => {
  expect(await local.stop()).toBe(0);
  outputs.push(local.output);
  answers.push(...local.answers);
  const dataDir = join(dir, 'data');
  local = new LocalMode(dataDir, ['--s3', '--bucket', BUCKET]);
  await local.start();
  expect(local.output).toContain(`token: in ${dataDir}/token`);
  const apps = await local.call('GET', '/store-apps');
  expect(apps.body.items.map((a: { name: string }) => a.name).sort()).toEqual(['disk', 'renamed', 'second']);
  const renamed = await local.call('GET', `/store-apps/${secondId}`);
  expect(renamed.body).toMatchObject({ name: 'renamed', state: 'created', storageType: 'cold' });
  expect((await stat(join(dataDir, 'secrets.json'))).mode & 0o777).toBe(0o600);
  expect((await stat(join(dataDir, 'token'))).mode & 0o777).toBe(0o600);
});

test('no passphrase or secret key in any log line or answer', async () => {
  const all = [...outputs, local.output, ...answers, ...local.answers].join('\n');
  expect(all).toContain('"message":"request"');
  for (const secret of SECRETS) expect(all).not.toContain(secret);
});
