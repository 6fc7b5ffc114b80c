/**
 * Each command reaches its store once: one SSH handshake (counted by a TCP proxy in front of a
 * real sshd) and one read of the config (counted in s3rver's requests), whatever it asks first.
 */
import { writeFile } from 'node:fs/promises';
import { RequestCounter } from '../../bench/request-counter.js';
import { startS3rver, type S3rverHandle } from '../layers/kloset/connectors/s3/s3rver.js';
import { CountingProxy } from '../layers/kloset/connectors/sftp/counting-proxy.js';
import { sshdForTests } from '../layers/kloset/connectors/sftp/sshd-for-tests.js';
import { Sandbox } from './sandbox.js';

const BUCKET = 'kloud-once';
const secret = { KLOUD_PASSPHRASE: 'correct horse' };
const sshd = sshdForTests();
let sandbox: Sandbox;
let proxy: CountingProxy;
let s3: S3rverHandle;
let counter: RequestCounter;

beforeAll(async () => {
  sandbox = await Sandbox.create();
  proxy = await CountingProxy.start(sshd.server.port);
  s3 = await startS3rver(sandbox.path('s3rver'), [BUCKET]);
  counter = await RequestCounter.start(s3.endpoint);
});
afterAll(async () => {
  await counter?.stop();
  await s3?.stop();
  await proxy?.stop();
  await sandbox?.dispose();
});

/** The server's connector options, its host keys known under the proxy's port. */
async function sftpOptions(): Promise<string[]> {
  const { ed25519, ecdsa } = sshd.server.knownHostsLines;
  const knownHosts = sandbox.path('proxy_known_hosts');
  const viaProxy = (line: string) => line.replace(`]:${sshd.server.port} `, `]:${proxy.port} `);
  await writeFile(knownHosts, `${viaProxy(ed25519)}\n${viaProxy(ecdsa)}\n`);
  return [`identity=${sshd.server.options.identity}`, `known_hosts=${knownHosts}`];
}

test('an SFTP store: create, backup, ls and restore each make one SSH connection', async () => {
  const url = `sftp://${sshd.server.user}@127.0.0.1:${proxy.port}${sandbox.path('remote/store')}`;
  await sandbox.ok(['store', 'add', 'far', url, ...(await sftpOptions())]);
  const data = await sandbox.writeTree('data', { 'a.txt': 'a\n' });
  proxy.take();

  await sandbox.ok(['at', '@far', 'create'], { env: secret });
  expect(proxy.take()).toBe(1);
  await sandbox.ok(['at', '@far', 'backup', data], { env: secret });
  expect(proxy.take()).toBe(1);
  await sandbox.ok(['at', '@far', 'ls'], { env: secret });
  expect(proxy.take()).toBe(1);
  await sandbox.ok(['at', '@far', 'restore', '--to', sandbox.path('restored')], { env: secret });
  expect(proxy.take()).toBe(1);
});

test('an S3 store: the config is read once per command', async () => {
  const options = { ...s3.options, endpoint: counter.endpoint };
  const location = `s3://${BUCKET}/store`;
  await sandbox.ok([
    'store',
    'add',
    'cloud',
    location,
    ...Object.entries(options).map(([k, v]) => `${k}=${v}`),
  ]);
  const data = await sandbox.writeTree('s3data', { 'b.txt': 'b\n' });
  await sandbox.ok(['at', '@cloud', 'create'], { env: secret });
  counter.take();

  const configGets = () => counter.take().byObject[`GET /${BUCKET}/store/config`] ?? 0;
  await sandbox.ok(['at', '@cloud', 'backup', data], { env: secret });
  expect(configGets()).toBe(1);
  await sandbox.ok(['at', '@cloud', 'ls'], { env: secret });
  expect(configGets()).toBe(1);
  await sandbox.ok(['at', '@cloud', 'info'], { env: secret });
  expect(configGets()).toBe(1);
});
