/**
 * `kloud remote backup` end to end in local mode: a directory of one app backed up into another
 * app's store with --wait (exit 0, the snapshot's summary, its tag), and a malformed --from
 * refused before any request.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalMode } from '../local/local-mode.js';
import { Sandbox } from './sandbox.js';

const PASSPHRASE = 'remote backup passphrase';

let sandbox: Sandbox;
let local: LocalMode;

function remote(args: string[]) {
  return sandbox.run(['remote', ...args], {
    env: { KLOUD_URL: local.url, KLOUD_TOKEN: local.token, KLOUD_PASSPHRASE: PASSPHRASE },
  });
}

async function readyApp(name: string): Promise<void> {
  const created = await remote([
    'apps',
    'create',
    name,
    '--resource',
    'directory:backups',
    '--configuration',
    JSON.stringify({ path: `${name}-store` }),
    '--json',
  ]);
  if (created.code !== 0) throw new Error(created.stderr);
  const initialized = await remote(['apps', 'initialize', name]);
  if (initialized.code !== 0) throw new Error(initialized.stderr);
}

beforeAll(async () => {
  sandbox = await Sandbox.create();
  local = new LocalMode(sandbox.path('local'), []);
  await local.start();
  await readyApp('vault');
  await readyApp('files');
  const data = sandbox.path('local', 'directories', 'backups', 'data');
  await mkdir(join(data, 'docs'), { recursive: true });
  await writeFile(join(data, 'notes.txt'), 'hello');
  await writeFile(join(data, 'docs', 'plan.md'), '# plan\n'.repeat(100));
}, 120_000);

afterAll(async () => {
  await local?.stop();
  await sandbox?.dispose();
});

test('backup --wait exits 0 with the snapshot it made, tagged', async () => {
  const run = await remote(['backup', 'vault', '--from', 'files:data', '--tag', 'nightly', '--wait']);
  expect(run.code).toBe(0);
  expect(run.stdout).toMatch(/^snapshot [0-9a-f]{8}: 2 files and 2 directories \(/m);
  const snapshots = await remote(['snapshots', 'vault', '--json']);
  expect(JSON.parse(snapshots.stdout.trim().split('\n')[0]!)).toMatchObject({ tags: ['nightly'] });
}, 180_000);

test('a --from without SOURCE_APP: is refused before any request', async () => {
  const run = await remote(['backup', 'vault', '--from', 'data']);
  expect(run.code).toBe(2);
  expect(run.stderr).toMatch(/bad --from "data": expected SOURCE_APP:PATH/);
});
