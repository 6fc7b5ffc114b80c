/**
 * Test Connection and Initialize Store against real places: s3rver (foreign data, a missing
 * bucket, an unreachable endpoint, a refused key) and Debian's sshd (host key, credentials).
 */
import { DeleteBucketCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KlosetAdapter } from '../../../../layers/control/engine/kloset-adapter.js';
import { SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
import type { Settings } from '../../../../layers/control/runtime/settings.js';
import { FileSecretStore } from '../../../../layers/control/secrets/file-secret-store.js';
import { StoreAppActions } from '../../../../layers/control/store-apps/store-app-actions.js';
import { StoreAppRepository } from '../../../../layers/control/store-apps/store-app-repository.js';
import { StoreApps } from '../../../../layers/control/store-apps/store-apps.js';
import { tempDir } from '../../kloset/fixtures.js';
import { s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { keyPair, sshdForTests } from '../../kloset/connectors/sftp/sshd-for-tests.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
const s3 = s3rverForTests(['kloud-actions', 'kloud-gone']);
const sshd = sshdForTests();
const PASSPHRASE = 'actions passphrase';

let apps: StoreApps;
let actions: StoreAppActions;
let sftpServers: SftpServers;

beforeAll(async () => {
  const dir = await tempDir('kloud-actions-');
  const settings: Settings = {
    tableName: 'kloud-test',
    secretPrefix: 'kloud/store-apps/',
    storeBuckets: [
      { bucket: 'kloud-actions', prefix: '' },
      { bucket: 'kloud-gone', prefix: '' },
    ],
    cacheDir: join(dir, 'cache'),
    secretsFile: join(dir, 'secrets.json'),
  };
  const table = dynamo.table();
  const secrets = new FileSecretStore(settings.secretsFile!);
  const repository = new StoreAppRepository(table);
  sftpServers = new SftpServers(table);
  apps = new StoreApps(settings, repository, secrets, sftpServers);
  actions = new StoreAppActions(settings, repository, secrets, new KlosetAdapter(settings.cacheDir));
});

function s3App(name: string, configuration: Record<string, unknown> = {}, accessKeyId = 'S3RVER') {
  return apps.create({
    resourceId: `s3-bucket:${String(configuration.bucket ?? 'kloud-actions')}`,
    name,
    storageType: 'standard',
    protocol: 's3-compatible',
    configuration: {
      endpoint: s3.server.endpoint,
      forcePathStyle: true,
      ...Object.fromEntries(Object.entries(configuration).filter(([k]) => k !== 'bucket')),
    },
    credentials: { accessKeyId, secretAccessKey: 'S3RVER' },
    passphrase: PASSPHRASE,
  });
}

test('data that is not a store: the test says so and initialize refuses to write over it', async () => {
  await s3.raw.send(new PutObjectCommand({ Bucket: 'kloud-actions', Key: 'photos/cat.jpg', Body: 'meow' }));
  const app = await s3App('foreign', { prefix: 'photos' });
  expect(await actions.test(app.id)).toMatchObject({
    outcome: 'other',
    code: 'NOT_A_STORE',
    app: { state: 'failed' },
  });
  await expect(actions.initialize(app.id)).rejects.toMatchObject({ status: 409, code: 'NOT_A_STORE' });
});

test('a bucket that does not exist: absent, and initialize says to create it', async () => {
  const app = await s3App('gone', { bucket: 'kloud-gone' });
  await s3.raw.send(new DeleteBucketCommand({ Bucket: 'kloud-gone' }));
  expect(await actions.test(app.id)).toMatchObject({ outcome: 'absent', code: 'BUCKET_NOT_FOUND' });
  await expect(actions.initialize(app.id)).rejects.toMatchObject({
    status: 422,
    code: 'BUCKET_NOT_FOUND',
    message: expect.stringContaining('create the bucket first (kloud does not)'),
  });
});

test('an unreachable endpoint and a refused key are errors a user can act on', async () => {
  const unreachable = await s3App('unreachable', { endpoint: 'http://127.0.0.1:1' });
  const result = await actions.test(unreachable.id);
  expect(result).toMatchObject({ outcome: 'error', code: 'IO', app: { state: 'failed' } });
  expect(result.message).toMatch(/127\.0\.0\.1:1.*check that the location is reachable/);
  const refused = await s3App('refused', {}, 'NOT-THE-KEY');
  expect(await actions.test(refused.id)).toMatchObject({ outcome: 'error', app: { state: 'failed' } });
});

test('SFTP: the registered host key is the only one trusted; then test, initialize, test', async () => {
  const { server } = sshd;
  const hostKey = server.knownHostsLines.ed25519.split(' ').slice(1).join(' ');
  const privateKey = await readFile(server.options.identity!, 'utf8');
  const app = async (name: string, key: string, credentials: Record<string, string>) => {
    const registered = await sftpServers.register({
      host: '127.0.0.1',
      port: server.port,
      user: server.user,
      hostKey: key,
    });
    return apps.create({
      resourceId: `sftp-server:${registered.id}`,
      name,
      storageType: 'cold',
      configuration: { path: `${server.dir}/store-${name}` },
      credentials,
      passphrase: PASSPHRASE,
    });
  };
  const good = await app('good', hostKey, { privateKey });
  expect(await actions.test(good.id)).toMatchObject({ outcome: 'empty', app: { state: 'tested' } });
  expect(await actions.initialize(good.id)).toMatchObject({ outcome: 'store', app: { state: 'ready' } });
  expect(await actions.test(good.id)).toMatchObject({ outcome: 'store', app: { state: 'ready' } });

  const otherKey = (await readFile(`${await keyPair(await tempDir(), 'other')}.pub`, 'utf8'))
    .split(' ')
    .slice(0, 2)
    .join(' ');
  const impostor = await actions.test((await app('impostor', otherKey, { privateKey })).id);
  expect(impostor).toMatchObject({ outcome: 'error', code: 'HOST_KEY_CHANGED' });
  expect(impostor.message).toContain('register the server again');

  const badPassword = await actions.test(
    (await app('password', hostKey, { password: 'not the password' })).id,
  );
  expect(badPassword).toMatchObject({ outcome: 'error', code: 'AUTH_FAILED' });
  expect(badPassword.message).not.toContain('not the password');
});
