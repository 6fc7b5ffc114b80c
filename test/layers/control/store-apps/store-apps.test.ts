import { mkdir, readFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { parseLocation } from '../../../../layers/kloset/core/location.js';
import { RegisterSftpServerBody, SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
import { fsTarget } from '../../../../layers/control/store-apps/protocols/fs-protocol.js';
import { checkAllowed } from '../../../../layers/control/store-apps/protocols/s3-protocol.js';
import type { Settings } from '../../../../layers/control/runtime/settings.js';
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';
import { StoreAppRepository } from '../../../../layers/control/store-apps/store-app-repository.js';
import { StoreApps } from '../../../../layers/control/store-apps/store-apps.js';
import type { Table } from '../../../../layers/control/data/table.js';
import { tempDir } from '../../kloset/fixtures.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
const PASSPHRASE = 'first passphrase';

let apps: StoreApps;
let secrets: FileSecretStore;
let secretsFile: string;
let table: Table;
let settings: Settings;

beforeAll(async () => {
  const dir = await tempDir('kloud-apps-');
  await mkdir(join(dir, 'root', 'backups'), { recursive: true });
  secretsFile = join(dir, 'secrets.json');
  settings = {
    tableName: 'kloud-test',
    secretPrefix: 'kloud/store-apps/',
    storeBuckets: [{ bucket: 'team-bucket', prefix: 'kloud/' }],
    cacheDir: join(dir, 'cache'),
    secretsFile,
    localRoot: join(dir, 'root'),
  };
  table = dynamo.table();
  secrets = new FileSecretStore(secretsFile);
  apps = new StoreApps(settings, new StoreAppRepository(table), secrets, new SftpServers(table));
});

const s3 = (name: string) =>
  apps.create({
    resourceId: 's3-bucket:team-bucket',
    name,
    storageType: 'standard',
    protocol: 's3',
    configuration: { prefix: 'kloud/main', region: 'eu-west-1' },
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-access-key' },
    passphrase: PASSPHRASE,
  });

test('secrets go to the secret store only; the item names the secret', async () => {
  const app = await s3('main');
  expect(app).toMatchObject({
    state: 'created',
    hasCredentials: true,
    location: 's3://team-bucket/kloud/main',
  });
  const item = JSON.stringify(await table.get(`APP#${app.id}`, 'APP'));
  expect(item).not.toContain(PASSPHRASE);
  expect(item).not.toContain('secret-access-key');
  expect(item).toContain(`"secretName":"kloud/store-apps/${app.id}"`);
  expect(JSON.parse((await secrets.get(`kloud/store-apps/${app.id}`))!)).toEqual({
    passphrase: PASSPHRASE,
    credentials: { accessKeyId: 'AKIAEXAMPLE', secretAccessKey: 'secret-access-key' },
  });
});

test('a change of secret gives the whole secret and sends the app back to created; a rename keeps the state', async () => {
  const app = await s3('rotate');
  const renamed = await apps.update(app.id, { name: 'rotated', storageType: 'cold' });
  expect(renamed).toMatchObject({ name: 'rotated', storageType: 'cold', state: 'created' });
  // the store-apps function may not read secrets: it never merges a change into the old one
  await expect(apps.update(app.id, { passphrase: 'second passphrase' })).rejects.toMatchObject({
    status: 422,
    code: 'WHOLE_SECRET',
    message: expect.stringMatching(/^credentials: required with a new passphrase/),
  });
  await expect(apps.update(app.id, { credentials: null })).rejects.toMatchObject({
    message: expect.stringMatching(/^passphrase: required when the credentials change/),
  });
  const changed = await apps.update(app.id, { passphrase: 'second passphrase', credentials: null });
  expect(changed).toMatchObject({ state: 'created', hasCredentials: false });
  expect(JSON.parse((await secrets.get(`kloud/store-apps/${app.id}`))!)).toEqual({
    passphrase: 'second passphrase',
  });
});

test('a lost secret is written anew by an update', async () => {
  const app = await s3('lost');
  await secrets.delete(`kloud/store-apps/${app.id}`);
  await apps.update(app.id, {
    passphrase: 'mended passphrase',
    credentials: { accessKeyId: 'AKIANEW', secretAccessKey: 'new-secret' },
  });
  expect(JSON.parse((await secrets.get(`kloud/store-apps/${app.id}`))!)).toEqual({
    passphrase: 'mended passphrase',
    credentials: { accessKeyId: 'AKIANEW', secretAccessKey: 'new-secret' },
  });
});

test('removing an app removes its secret and frees its name', async () => {
  const app = await s3('removed');
  await apps.remove(app.id);
  expect(await secrets.get(`kloud/store-apps/${app.id}`)).toBeUndefined();
  await expect(apps.get(app.id)).rejects.toMatchObject({ status: 404 });
  expect((await s3('removed')).name).toBe('removed');
  expect(await readFile(secretsFile, 'utf8')).not.toContain(app.id);
});

test('a location outside the store buckets is refused on create and on update', async () => {
  await expect(
    apps.create({
      resourceId: 's3-bucket:team-bucket',
      name: 'outside',
      storageType: 'standard',
      protocol: 's3',
      configuration: { prefix: 'elsewhere' },
      passphrase: PASSPHRASE,
    }),
  ).rejects.toMatchObject({ status: 403, code: 'LOCATION_NOT_ALLOWED' });
  const app = await s3('moving');
  await expect(apps.update(app.id, { configuration: { prefix: 'kloudx' } })).rejects.toMatchObject({
    status: 403,
  });
});

test('two creates of one name at once: one is added, the other is told the name is taken', async () => {
  const results = await Promise.allSettled([s3('raced'), s3('raced'), s3('raced')]);
  expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1);
  for (const r of results.filter((r) => r.status === 'rejected'))
    expect(r.reason).toMatchObject({ status: 409, code: 'NAME_TAKEN' });
});

const fsApp = (name: string, path: string) =>
  apps.create({
    resourceId: 'directory:backups',
    name,
    storageType: 'standard',
    protocol: 'fs',
    configuration: { path },
    passphrase: PASSPHRASE,
  });

test.each(['a\n/../../x', '../x', 'a/./b', 'a//b', '%2e%2e/x', 'a\\..\\x', '/abs'])(
  'an fs path that could leave its directory is refused: %j',
  async (path) => {
    await expect(fsApp(`fs-${encodeURIComponent(path)}`, path)).rejects.toMatchObject({
      status: 422,
      code: 'INVALID_CONFIGURATION',
    });
  },
);

test('an fs path below its directory is accepted and stays inside it', async () => {
  const app = await fsApp('fs-below', 'laptop/daily');
  expect(app.location).toBe(join(dirname(secretsFile), 'root', 'backups', 'laptop', 'daily'));
});

test.each(['kloud/%2e%2e/other', 'kloud/\n/../../other', 'kloud/../other', 'kloud/a?b'])(
  'an s3 prefix that could leave its store bucket prefix is refused: %j',
  async (prefix) => {
    await expect(
      apps.create({
        resourceId: 's3-bucket:team-bucket',
        name: `escape-${encodeURIComponent(prefix)}`,
        storageType: 'standard',
        protocol: 's3',
        configuration: { prefix },
        passphrase: PASSPHRASE,
      }),
    ).rejects.toMatchObject({ status: 422 });
  },
);

test('checkAllowed compares prefixes on segment boundaries, on the location as the engine reads it', () => {
  const allowed = [{ bucket: 'bkt', prefix: 'team/' }];
  expect(() => checkAllowed('s3://bkt/team/x', allowed)).not.toThrow();
  expect(() => checkAllowed('s3://bkt/team', allowed)).not.toThrow();
  expect(() => checkAllowed('s3://bkt/team-other', allowed)).toThrow(/outside/);
  expect(() => checkAllowed('s3://bkt/team/%2e%2e/other', allowed)).toThrow(/outside/);
  expect(() => checkAllowed('s3://bkt/team/../other', allowed)).toThrow(/outside/);
});

test('fsTarget refuses a stored path that resolves outside its directory', () => {
  expect(() => fsTarget('/srv/root/backups', { path: '../other' })).toThrow(/outside/);
  expect(() => fsTarget('/srv/root/backups', { path: '../backups-other' })).toThrow(/outside/);
});

const compatible = (name: string, credentials?: Record<string, string>) =>
  apps.create({
    resourceId: 's3-bucket:elsewhere-bucket',
    name,
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: { endpoint: 'https://objects.example.com', prefix: 'any' },
    ...(credentials && { credentials }),
    passphrase: PASSPHRASE,
  });

test('s3-compatible requires credentials on create and update, and is not held to the AWS store buckets', async () => {
  await expect(compatible('no-keys')).rejects.toMatchObject({
    status: 422,
    message: 'credentials: required by the s3-compatible protocol',
  });
  const app = await compatible('with-keys', { accessKeyId: 'K', secretAccessKey: 'S' });
  expect(app.location).toBe('s3://elsewhere-bucket/any');
  await expect(apps.update(app.id, { passphrase: PASSPHRASE, credentials: null })).rejects.toMatchObject({
    status: 422,
    message: 'credentials: required by the s3-compatible protocol',
  });
});

test('an app on an IPv6 SFTP server has a location the engine reads back', async () => {
  const server = await new SftpServers(table).register(
    RegisterSftpServerBody.parse({
      host: '[::1]',
      port: 2222,
      user: 'kloud',
      hostKey: '[::1]:2222 ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample',
    }),
  );
  expect(server).toMatchObject({ host: '::1', hostKey: 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample' });
  const app = await apps.create({
    resourceId: `sftp-server:${server.id}`,
    name: 'ipv6',
    storageType: 'standard',
    protocol: 'sftp',
    configuration: { path: '/srv/100%backups' },
    credentials: { password: 'pw' },
    passphrase: PASSPHRASE,
  });
  expect(app.location).toBe('sftp://kloud@[::1]:2222/srv/100%25backups');
  expect(parseLocation(app.location)).toMatchObject({ host: '::1', port: 2222, path: '/srv/100%backups' });
});

test('an update that loses the race to another writes no secret; one whose secret write fails leaves the app created', async () => {
  const app = await s3('ordered');
  const secretName = `kloud/store-apps/${app.id}`;
  const before = await secrets.get(secretName);
  const repository = new StoreAppRepository(table);
  const racing = new StoreApps(settings, repository, secrets, new SftpServers(table));
  const save = repository.save.bind(repository);
  repository.save = async (record) => {
    await save(await repository.get(record.id)); // another update lands first
    return save(record);
  };
  await expect(racing.update(app.id, { passphrase: 'lost race', credentials: null })).rejects.toMatchObject({
    code: 'CHANGED',
  });
  expect(await secrets.get(secretName)).toBe(before);

  const failing = new StoreApps(
    settings,
    new StoreAppRepository(table),
    {
      ...secrets,
      get: (n) => secrets.get(n),
      delete: (n) => secrets.delete(n),
      put: () => Promise.reject(new Error('down')),
    },
    new SftpServers(table),
  );
  const tested = new StoreAppRepository(table);
  await tested.save({ ...(await tested.get(app.id)), state: 'tested' });
  await expect(failing.update(app.id, { passphrase: 'not written', credentials: null })).rejects.toThrow(
    'down',
  );
  expect(await apps.get(app.id)).toMatchObject({ state: 'created', hasCredentials: false });
  expect(await secrets.get(secretName)).toBe(before);
});
