import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
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

beforeAll(async () => {
  const dir = await tempDir('kloud-apps-');
  await mkdir(join(dir, 'root', 'backups'), { recursive: true });
  secretsFile = join(dir, 'secrets.json');
  const settings: Settings = {
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
