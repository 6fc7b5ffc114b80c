/** Stores with data in GLACIER / DEEP_ARCHIVE through the built CLI, against s3rver behind the archive proxy. */
import { readFile } from 'node:fs/promises';
import { type ArchiveProxy, startArchiveProxy } from '../layers/kloset/connectors/s3/archive-proxy.js';
import { type S3rverHandle, startS3rver } from '../layers/kloset/connectors/s3/s3rver.js';
import { Sandbox } from './sandbox.js';

const BUCKET = 'kloud-cold-cli';
const HOUR = 3_600_000;

let sandbox: Sandbox;
let server: S3rverHandle;
let proxy: ArchiveProxy;
beforeAll(async () => {
  sandbox = await Sandbox.create();
  server = await startS3rver(sandbox.path('s3rver'), [BUCKET]);
  proxy = await startArchiveProxy(server, HOUR);
});
afterAll(async () => {
  await proxy?.close();
  await server?.stop();
  await sandbox?.dispose();
});

const env = { KLOUD_PASSPHRASE: 'correct horse' };

/** `kloud store add NAME s3://BUCKET/NAME` through the proxy, with its data packs in `storageClass`. */
async function coldAlias(name: string, storageClass: string): Promise<void> {
  const options = { ...proxy.options, storage_class: storageClass };
  const args = Object.entries(options).map(([key, value]) => `${key}=${value}`);
  await sandbox.ok(['store', 'add', name, `s3://${BUCKET}/${name}`, ...args]);
  await sandbox.ok(['at', `@${name}`, 'create'], { env });
}

/** Requests for archived objects since `from` (GETs, RestoreObjects). */
function archivedRequests(from: number, method: string): string[] {
  return proxy.requests
    .slice(from)
    .filter((r) => r.method === method && proxy.storageClass(r.key) === 'GLACIER')
    .map((r) => r.key);
}

test('restore from GLACIER asks for the data, exits 5 until it is retrieved, then restores', async () => {
  await coldAlias('cold', 'GLACIER');
  const data = await sandbox.writeTree('data', {
    'notes.txt': 'first notes\n',
    'docs/a.md': '# a\n'.repeat(99),
  });
  await sandbox.ok(['at', '@cold', 'backup', data], { env });

  const browsing = proxy.requests.length;
  expect((await sandbox.ok(['at', '@cold', 'ls', `latest:${data}`], { env })).stdout).toContain('notes.txt');
  expect((await sandbox.ok(['at', '@cold', 'info'], { env })).stdout).toMatch(/packs: +1 data, 1 metadata/);
  const check = await sandbox.ok(['at', '@cold', 'check'], { env });
  expect(check.stdout).toContain('note: 1 pack(s) in archive storage: only their sizes were checked');
  expect(archivedRequests(browsing, 'GET')).toEqual([]);

  const refused = await sandbox.run(['at', '@cold', 'check', '--read-data'], { env });
  expect([refused.code, refused.stderr]).toEqual([
    1,
    `error: reading all data needs every pack, and 1 pack(s) of s3://${BUCKET}/cold are in GLACIER and not retrieved — retrieve the data first: kloud restore SNAPSHOT --to DIR asks for it (exit 5 until it is readable; --wait waits)\n`,
  ]);

  const out = sandbox.path('restored');
  const asked = proxy.requests.length;
  const first = await sandbox.run(['at', '@cold', 'restore', `latest:${data}`, '--to', out], { env });
  expect(first.code).toBe(5);
  expect(first.stdout).toMatch(
    /^this restore needs 1 data pack \(\d+ B\) in GLACIER: 0 ready, 1 being retrieved \(1 asked for now\)\na standard retrieval typically takes 3–5 hours; estimated cost of this request under \$0\.01 \(AWS list prices\)\n$/,
  );
  expect(first.stderr).toBe(
    'note: run the same restore again once the retrieval is done (it asks for nothing twice), or add --wait\n' +
      "note: or, from a store app of a kloud control plane, let it wait and restore: 'kloud remote restore APP SNAPSHOT PATH --to-app APP --path PATH --wait' (--dry-run shows the cost first)\n",
  );
  const again = await sandbox.run(['at', '@cold', '--json', 'restore', `latest:${data}`, '--to', out], {
    env,
  });
  expect(again.code).toBe(5);
  expect(JSON.parse(again.stdout)).toMatchObject({
    path: data,
    tier: 'standard',
    retrieval: { needed: 1, ready: 0, requested: 0, pending: 1, archives: ['GLACIER'] },
  });
  expect(archivedRequests(asked, 'POST')).toHaveLength(1);
  expect(proxy.requests.slice(asked).filter((r) => r.action === 'restore')[0]).toMatchObject({
    tier: 'Standard',
    days: 7,
  });

  proxy.advance(HOUR);
  const restored = await sandbox.run(['at', '@cold', 'restore', `latest:${data}`, '--to', out], { env });
  expect(restored.code).toBe(0);
  expect(restored.stderr).toMatch(/^1 data pack \(.*\) read from retrieved copies\n$/);
  expect(await readFile(`${out}/data/docs/a.md`, 'utf8')).toBe('# a\n'.repeat(99));
  const readData = await sandbox.ok(['at', '@cold', 'check', '--read-data'], { env });
  expect(readData.stdout).toMatch(/no problems found\n$/);
});

test('restore --wait polls until the retrieval is done, then restores', async () => {
  await coldAlias('waiting', 'GLACIER');
  const data = await sandbox.writeTree('wait-data', { 'report.txt': 'quarterly numbers\n' });
  await sandbox.ok(['at', '@waiting', 'backup', data], { env });
  const saved = proxy.restoreDelayMs;
  proxy.restoreDelayMs = 1500;
  try {
    const out = sandbox.path('waited');
    const from = proxy.requests.length;
    const run = await sandbox.run(
      [
        'at',
        '@waiting',
        'restore',
        `latest:${data}`,
        '--to',
        out,
        '--wait',
        '--tier',
        'expedited',
        '--days',
        '2',
      ],
      { env },
    );
    expect(run.code).toBe(0);
    expect(run.stderr).toContain('retrieved 1 of 1 data pack\n');
    expect(await readFile(`${out}/wait-data/report.txt`, 'utf8')).toBe('quarterly numbers\n');
    const restores = proxy.requests.slice(from).filter((r) => r.action === 'restore');
    expect(restores.map((r) => [r.tier, r.days])).toEqual([['Expedited', 2]]);
    expect(archivedRequests(from, 'HEAD').length).toBeGreaterThanOrEqual(2);
  } finally {
    proxy.restoreDelayMs = saved;
  }
});

test('DEEP_ARCHIVE refuses an expedited retrieval; --days must be a whole number', async () => {
  await coldAlias('deep', 'DEEP_ARCHIVE');
  const data = await sandbox.writeTree('deep-data', { 'old.txt': 'archived\n' });
  await sandbox.ok(['at', '@deep', 'backup', data], { env });
  const out = sandbox.path('deep-restored');
  const expedited = await sandbox.run(['at', '@deep', 'restore', '--to', out, '--tier', 'expedited'], {
    env,
  });
  expect([expedited.code, expedited.stderr]).toEqual([
    2,
    "error: expedited retrieval is not offered by DEEP_ARCHIVE (it offers standard and bulk), which holds 1 of the packs needed — see the command's --help\n",
  ]);
  const days = await sandbox.run(['at', '@deep', 'restore', '--to', out, '--days', '0'], { env });
  expect(days.code).toBe(2);
  expect(days.stderr).toMatch(/--days.*expected a whole number of days, 1 or more/);
  const bulk = await sandbox.run(['at', '@deep', 'restore', '--to', out, '--tier', 'bulk'], { env });
  expect(bulk.code).toBe(5);
  expect(bulk.stdout).toMatch(/ in DEEP_ARCHIVE: .*\na bulk retrieval typically takes up to 48 hours;/);
});
