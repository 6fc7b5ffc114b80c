/** S3 server errors that outlast the retries, through the built CLI, with a failing proxy in front of s3rver. */
import { type FailingProxy, startFailingProxy } from '../layers/kloset/connectors/s3/failing-proxy.js';
import { type S3rverHandle, startS3rver } from '../layers/kloset/connectors/s3/s3rver.js';
import { Sandbox } from './sandbox.js';

const BUCKET = 'kloud-failing';

let sandbox: Sandbox;
let server: S3rverHandle;
let proxy: FailingProxy;
beforeAll(async () => {
  sandbox = await Sandbox.create();
  server = await startS3rver(sandbox.path('s3rver'), [BUCKET]);
  proxy = await startFailingProxy(server);
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await sandbox?.dispose();
});
afterEach(() => {
  proxy.failWith = undefined;
  proxy.failAfterCommit(undefined);
});

async function storeThroughProxy(name: string): Promise<string> {
  const options = Object.entries(proxy.options).map(([key, value]) => `${key}=${value}`);
  await sandbox.ok(['store', 'add', name, `s3://${BUCKET}/${name}`, ...options]);
  await sandbox.ok(['at', `@${name}`, 'create', '--plaintext']);
  return `@${name}`;
}

test('a backup whose snapshot was committed succeeds even when every later request fails', async () => {
  const store = await storeThroughProxy('committed');
  const data = await sandbox.writeTree('data', { 'a.txt': 'alpha\n', 'b/c.txt': 'gamma\n' });

  proxy.failAfterCommit(500);
  const backup = await sandbox.run(['at', store, 'backup', data]);
  expect(proxy.failures).toBeGreaterThan(0);
  expect(backup.code).toBe(0);
  expect(backup.stdout).toMatch(/^snapshot ([0-9a-f]{8}) saved: 2 files/);
  expect(backup.stderr).toMatch(/the service kept answering HTTP 500 \(InternalError\) after 5 retries/);
  expect(backup.stderr).not.toMatch(/^error:/m);

  proxy.failWith = undefined;
  const id = /^snapshot ([0-9a-f]{8}) saved/.exec(backup.stdout)![1];
  const ls = await sandbox.ok(['at', store, 'ls']);
  expect(ls.stdout).toContain(id);
  const check = await sandbox.ok(['at', store, 'check']);
  expect(check.stdout).toMatch(/no problems found\n$/);
});

test('a service that keeps failing is said to be failing, with no advice about endpoints or credentials', async () => {
  const store = await storeThroughProxy('unavailable');
  proxy.failWith = 500;
  for (const json of [false, true]) {
    const run = await sandbox.run(['at', store, 'ls', ...(json ? ['--json'] : [])]);
    expect(run.code).toBe(1);
    expect(run.stderr).toMatch(
      /^error: \w+ on s3:\/\/kloud-failing\/unavailable: the service kept answering HTTP 500 \(InternalError\) after 5 retries — the service is failing or overloaded for now: try again later\n$/,
    );
    expect(run.stderr).not.toMatch(/endpoint|credentials/);
    if (json) expect(JSON.parse(run.stdout)).toMatchObject({ error: { code: 'UNAVAILABLE' } });
  }
});
