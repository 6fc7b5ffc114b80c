/** S3 stores and sources through the built CLI, against s3rver on 127.0.0.1. */
import { GetObjectCommand, PutObjectCommand } from '@aws-sdk/client-s3';
import { readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { parseDocument } from 'yaml';
import { awsCli, rawClient, type S3rverHandle, startS3rver } from '../layers/kloset/connectors/s3/s3rver.js';
import { Sandbox } from './sandbox.js';

const BUCKET = 'kloud-cli';

let sandbox: Sandbox;
let server: S3rverHandle;
beforeAll(async () => {
  sandbox = await Sandbox.create();
  server = await startS3rver(sandbox.path('s3rver'), [BUCKET]);
});
afterAll(async () => {
  await server?.stop();
  await sandbox?.dispose();
});

const secret = { KLOUD_PASSPHRASE: 'correct horse' };

/** s3rver checks the access key only, so the secret can be one that `store show` must not print. */
const SECRET_KEY = 'never-printed-secret';

/** The alias's connector options as `key=value` arguments. */
function optionArgs(): string[] {
  const { endpoint, force_path_style, access_key } = server.options;
  const options = { endpoint, force_path_style, access_key, secret_access_key: SECRET_KEY };
  return Object.entries(options).map(([key, value]) => `${key}=${value}`);
}

test('an S3 store alias: create, backup, ls, restore and check --read-data', async () => {
  await sandbox.ok(['store', 'add', 'cloud', `s3://${BUCKET}/backups`, ...optionArgs()]);
  const show = await sandbox.ok(['store', 'show', 'cloud']);
  expect(show.stdout).toContain('secret_access_key: ********\n');
  expect(show.stdout).not.toContain(SECRET_KEY);

  const created = await sandbox.ok(['at', '@cloud', 'create', '--json'], { env: secret });
  expect(JSON.parse(created.stdout)).toMatchObject({
    location: `s3://${BUCKET}/backups`,
    encryption: 'aes-256-gcm',
  });
  const again = await sandbox.run(['at', '@cloud', 'create'], { env: secret });
  expect(again.code).toBe(1);
  expect(again.stderr).toMatch(/^error: a store already exists at @cloud \(s3:\/\/kloud-cli\/backups\) — /);

  const data = await sandbox.writeTree('data', {
    'notes.txt': 'first notes\n',
    'docs/a.md': '# a\n'.repeat(99),
  });
  const backup = await sandbox.ok(['at', '@cloud', 'backup', data, '--json'], { env: secret });
  expect(JSON.parse(backup.stdout)).toMatchObject({ sources: [data], errors: [], summary: { files: 2 } });

  const ls = await sandbox.ok(['at', '@cloud', 'ls', `latest:${data}`], { env: secret });
  expect(ls.stdout).toContain('notes.txt');
  expect(ls.stdout).toContain('docs');

  const out = sandbox.path('restored');
  await sandbox.ok(['at', '@cloud', 'restore', `latest:${data}/docs`, '--to', out], { env: secret });
  expect(await readFile(`${out}/docs/a.md`, 'utf8')).toBe('# a\n'.repeat(99));

  const check = await sandbox.ok(['at', '@cloud', 'check', '--read-data'], { env: secret });
  expect(check.stdout).toMatch(/^checked 1 snapshot, .*, read .*\nno problems found\n$/);
});

test('S3 and local sources in one snapshot, each under its own top-level entry', async () => {
  const raw = rawClient(server);
  const put = (key: string, body: string) =>
    raw.send(new PutObjectCommand({ Bucket: BUCKET, Key: key, Body: body }));
  await put('site/html/index.html', '<h1>hi</h1>');
  await put('site/html/css/main.css', 'body {}');
  raw.destroy();
  const store = sandbox.path('local-store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  await sandbox.ok(['source', 'add', 'web', `s3://${BUCKET}/site`, ...optionArgs()]);

  const alone = await sandbox.ok(['at', store, 'backup', '@web:html', '--json']);
  expect(JSON.parse(alone.stdout)).toMatchObject({
    sources: [`/s3:${BUCKET}/site/html`],
    errors: [],
    summary: { files: 2 },
  });
  const out = sandbox.path('web-restored');
  await sandbox.ok(['at', store, 'restore', `latest:/s3:${BUCKET}/site/html`, '--to', out]);
  expect(await readFile(`${out}/html/css/main.css`, 'utf8')).toBe('body {}');

  const local = await sandbox.writeTree('local-data', { 'a.txt': 'local a\n' });
  const mixed = await sandbox.ok(['at', store, 'backup', '@web', local, '--json']);
  const answer = JSON.parse(mixed.stdout) as { snapshot: string; sources: string[] };
  expect(answer.sources).toEqual([`/s3:${BUCKET}/site`, local]);
  const top = await sandbox.ok(['at', store, 'ls', answer.snapshot]);
  expect(top.stdout).toContain(`s3:${BUCKET}`);
  const whole = sandbox.path('mixed-restored');
  await sandbox.ok(['at', store, 'restore', answer.snapshot, '--to', whole]);
  expect(await readFile(`${whole}/s3:${BUCKET}/site/html/index.html`, 'utf8')).toBe('<h1>hi</h1>');
  expect(await readFile(`${whole}${local}/a.txt`, 'utf8')).toBe('local a\n');
});

test('a restore into an S3 prefix writes objects and never overwrites unless asked', async () => {
  const store = sandbox.path('dest-store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const data = await sandbox.writeTree('to-s3', { 'report.txt': 'v1\n', 'sub/deep.txt': 'deep\n' });
  await sandbox.ok(['at', store, 'backup', data]);
  await sandbox.ok(['destination', 'add', 'bucket', `s3://${BUCKET}/restored`, ...optionArgs()]);

  const first = await sandbox.ok(['at', store, 'restore', `latest:${data}`, '--to', '@bucket', '--json']);
  expect(JSON.parse(first.stdout)).toMatchObject({ files: 2, skipped: 0, errors: [] });
  const head = await awsCli(server.endpoint, [
    'head-object',
    '--bucket',
    BUCKET,
    '--key',
    'restored/to-s3/report.txt',
  ]);
  expect(head).toMatchObject({ ContentLength: 3, Metadata: { 'kloud-type': 'file' } });

  await writeFile(join(data, 'report.txt'), 'v2, longer\n');
  await sandbox.ok(['at', store, 'backup', data]);
  const again = await sandbox.ok(['at', store, 'restore', `latest:${data}`, '--to', '@bucket', '--json']);
  expect(JSON.parse(again.stdout)).toMatchObject({ files: 0, skipped: 2 });
  await sandbox.ok(['at', store, 'restore', `latest:${data}`, '--to', '@bucket', '--overwrite', 'always']);
  const raw = rawClient(server);
  const got = await raw.send(new GetObjectCommand({ Bucket: BUCKET, Key: 'restored/to-s3/report.txt' }));
  expect(await got.Body!.transformToString()).toBe('v2, longer\n');
  raw.destroy();
});

test('a missing bucket or a bad alias option is one clear error', async () => {
  await sandbox.ok(['store', 'add', 'nobucket', 's3://no-such-bucket/x', ...optionArgs()]);
  const missing = await sandbox.run(['at', '@nobucket', 'create', '--plaintext']);
  expect([missing.code, missing.stderr]).toEqual([
    1,
    'error: @nobucket (s3://no-such-bucket/x): bucket no-such-bucket does not exist — create the bucket first (kloud does not), or check its name\n',
  ]);

  const refused = await sandbox.run(['store', 'add', 'typo', `s3://${BUCKET}/typo`, 'regoin=eu-west-1']);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toMatch(
    /^error: store typo: S3 option "regoin" of s3:\/\/kloud-cli\/typo: unknown option .* — nothing was saved: fix or drop that option\n$/,
  );

  // an alias saved before aliases were checked (or written by hand) is refused when used
  const config = parseDocument(await sandbox.readConfig());
  config.setIn(
    ['stores', 'typo'],
    config.createNode({ location: `s3://${BUCKET}/typo`, regoin: 'eu-west-1' }),
  );
  await sandbox.writeConfig(config.toString());
  expect((await sandbox.ok(['store', 'ls'])).stdout).toContain('typo');
  const typo = await sandbox.run(['at', '@typo', 'ls']);
  expect(typo.code).toBe(1);
  expect(typo.stderr).toMatch(
    /^error: @typo \(s3:\/\/kloud-cli\/typo\): S3 option "regoin" of s3:\/\/kloud-cli\/typo: unknown option .* — fix the alias: kloud store set typo key=value, or kloud store unset typo key\n$/,
  );
});
