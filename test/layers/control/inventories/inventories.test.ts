import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { S3Client } from '@aws-sdk/client-s3';
import { Inventories } from '../../../../layers/control/inventories/inventories.js';
import { RegisterSftpServerBody, SftpServers } from '../../../../layers/control/inventories/sftp-servers.js';
import type { Settings } from '../../../../layers/control/runtime/settings.js';
import { tempDir } from '../../kloset/fixtures.js';
import { S3RVER_KEY, s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { dynaliteForTests } from '../dynalite-table.js';

const dynamo = dynaliteForTests();
const s3 = s3rverForTests(['bucket-b', 'bucket-a']);

const aws: Settings = {
  tableName: 'kloud-test',
  secretPrefix: 'kloud/store-apps/',
  storeBuckets: [{ bucket: 'named-in-stack', prefix: 'kloud/' }],
  cacheDir: '/tmp/kloud',
};

function client(): S3Client {
  return new S3Client({
    endpoint: s3.server.endpoint,
    region: 'us-east-1',
    forcePathStyle: true,
    credentials: { accessKeyId: S3RVER_KEY, secretAccessKey: S3RVER_KEY },
  });
}

test('AWS: the account buckets and the stack store buckets, sorted, with regions where known', async () => {
  const inventories = new Inventories(aws, new SftpServers(dynamo.table()), client());
  expect(inventories.list().map((i) => i.id)).toEqual(['s3', 'sftp']);
  const page = await inventories.resources('s3', 2);
  expect(page.items.map((r) => [r.id, r.region])).toEqual([
    ['s3-bucket:bucket-a', 'us-east-1'],
    ['s3-bucket:bucket-b', 'us-east-1'],
  ]);
  const next = await inventories.resources('s3', 2, page.nextToken);
  expect(next.items.map((r) => r.id)).toEqual(['s3-bucket:named-in-stack']);
  expect(next.nextToken).toBeUndefined();
});

test('AWS: a role that may not list buckets still sees the store buckets', async () => {
  const denied = {
    send: async () => {
      throw Object.assign(new Error('Access Denied'), { name: 'AccessDenied' });
    },
  } as unknown as S3Client;
  const inventories = new Inventories(aws, new SftpServers(dynamo.table()), denied);
  expect((await inventories.resources('s3', 10)).items).toEqual([
    expect.objectContaining({ id: 's3-bucket:named-in-stack', subClass: 's3-bucket' }),
  ]);
});

test('local mode without S3: the directories under the root, no S3 inventory', async () => {
  const root = await tempDir('kloud-root-');
  for (const name of ['b', 'a', '.hidden']) await mkdir(join(root, name));
  const local = { ...aws, secretsFile: join(root, '.hidden', 's.json'), localRoot: root };
  const inventories = new Inventories(local, new SftpServers(dynamo.table()), client());
  expect(inventories.list().map((i) => i.id)).toEqual(['sftp', 'directories']);
  expect((await inventories.resources('directories', 10)).items.map((r) => r.id)).toEqual([
    'directory:a',
    'directory:b',
  ]);
  await expect(inventories.resources('s3', 10)).rejects.toMatchObject({ status: 404 });
});

test('a host key is taken as TYPE KEY or as the HOST TYPE KEY line ssh-keyscan prints; IPv6 hosts are stored bare', () => {
  const key = 'ssh-ed25519 AAAAC3NzaC1lZDI1NTE5AAAAIExample';
  const parse = (host: string, hostKey: string) =>
    RegisterSftpServerBody.safeParse({ host, user: 'u', hostKey });
  expect(parse('backup.example.com', key).data).toMatchObject({ hostKey: key });
  expect(parse('backup.example.com', `backup.example.com ${key}`).data).toMatchObject({ hostKey: key });
  expect(parse('[::1]', `[::1]:2222 ${key}`).data).toMatchObject({ host: '::1', hostKey: key });
  expect(parse('2001:db8::1', key).data).toMatchObject({ host: '2001:db8::1' });
  expect(parse('[::1', key).success).toBe(false);
  expect(parse('h', `a b ${key}`).success).toBe(false);
});
