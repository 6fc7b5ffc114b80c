/**
 * `kloud remote` on the task and browse routes (check, cancel, tasks, snapshots, ls, get), end to
 * end in local mode: the exit codes a CI job relies on, Ctrl-C while waiting, the Idempotency-Key,
 * and downloaded bytes equal to the original (SHA-256), inline and through the staging bucket.
 */
import { createHash, randomBytes } from 'node:crypto';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { LocalMode } from '../local/local-mode.js';
import { interruptedRun } from './remote/interrupted.js';
import { Sandbox } from './sandbox.js';

const PASSPHRASE = 'remote tasks passphrase';

let sandbox: Sandbox;
let local: LocalMode;
let appId = '';
let store = '';
let source = '';
const small = randomBytes(1024);
/** above the 1 MiB the API answers inline: it comes through a presigned URL */
const large = randomBytes(5 * 1024 * 1024 + 17);

const sha256 = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function remote(args: string[]) {
  return sandbox.run(['remote', ...args], {
    env: { KLOUD_URL: local.url, KLOUD_TOKEN: local.token, KLOUD_PASSPHRASE: PASSPHRASE },
  });
}

beforeAll(async () => {
  sandbox = await Sandbox.create();
  local = new LocalMode(sandbox.path('local'), []);
  await local.start();
  const created = await remote([
    'apps',
    'create',
    'main',
    '--resource',
    'directory:backups',
    '--configuration',
    '{"path":"main"}',
    '--json',
  ]);
  appId = JSON.parse(created.stdout).id;
  await remote(['apps', 'test', appId]);
  const initialized = await remote(['apps', 'initialize', appId]);
  if (initialized.code !== 0) throw new Error(initialized.stderr);
  store = sandbox.path('local', 'directories', 'backups', 'main');
  source = await sandbox.writeTree('src', { 'notes.txt': 'hello' });
  await writeFile(join(source, 'small.bin'), small);
  await writeFile(join(source, 'large.bin'), large);
  await sandbox.ok(['at', store, 'backup', source], { env: { KLOUD_PASSPHRASE: PASSPHRASE } });
});

afterAll(async () => {
  await local?.stop();
  await sandbox?.dispose();
});

test('check --wait on a sound store exits 0 with the report; --json prints the task', async () => {
  const text = await remote(['check', 'main', '--wait']);
  expect(text.code).toBe(0);
  expect(text.stdout).toMatch(/no problems found\n$/);
  expect(text.stderr).toMatch(/^task [0-9a-f-]{36} (queued|running)/);
  const json = await remote(['check', appId, '--read-data', '--wait', '--json']);
  expect(json.code).toBe(0);
  const task = JSON.parse(json.stdout);
  expect(task).toMatchObject({ type: 'check', appId, state: 'succeeded', parameters: { readData: true } });
  expect(task.result.ok).toBe(true);

  const listed = await remote(['tasks', '--app', 'main', '--state', 'succeeded', '--json']);
  const ids = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line).id);
  expect(ids).toContain(task.id);
  const shown = await remote(['task', task.id]);
  expect(shown.stdout).toContain(`task:     ${task.id}\ntype:     check\n`);
});

test('without --wait the task is printed at once; the same Idempotency-Key gives the same task', async () => {
  const first = await remote(['check', 'main', '--idempotency-key', 'ci-run-42', '--json']);
  const again = await remote(['check', 'main', '--idempotency-key', 'ci-run-42', '--json']);
  expect(first.code).toBe(0);
  expect(JSON.parse(again.stdout).id).toBe(JSON.parse(first.stdout).id);
  const other = await remote(['check', 'main', '--read-data', '--idempotency-key', 'ci-run-42']);
  expect(other.code).toBe(1);
  expect(other.stderr).toMatch(/^error: IDEMPOTENCY_KEY_REUSED: /);
  const text = await remote(['check', 'main']);
  expect(text.stdout).toMatch(
    /^check task ([0-9a-f-]{36}) (queued|running)\nfollow it with: kloud remote task \1 --wait\n$/,
  );
  // let them end before the next test damages the store
  for (const run of [first, text]) {
    const id = /([0-9a-f-]{36})/.exec(run.stdout)![1]!;
    await remote(['task', id, '--wait']);
  }
});

test('Ctrl-C while waiting leaves the task running and says how to follow it again', async () => {
  const { code, stderr } = await interruptedRun(['remote', 'check', 'main', '--read-data', '--wait'], {
    env: sandbox.env({ KLOUD_URL: local.url, KLOUD_TOKEN: local.token }),
    cwd: sandbox.work,
  });
  expect(code).toBe(130);
  const id = /task ([0-9a-f-]{36})/.exec(stderr)![1]!;
  expect(stderr).toContain(
    `error: stopped following task ${id}: it goes on running — follow it again with: kloud remote task ${id} --wait`,
  );
  const followed = await remote(['task', id, '--wait']);
  expect(followed.code).toBe(0);
});

test('cancel: a cancelled task makes --wait exit 7; an ended one cannot be cancelled', async () => {
  const started = JSON.parse((await remote(['check', 'main', '--read-data', '--json'])).stdout);
  const cancel = await remote(['cancel', started.id]);
  if (cancel.code === 0) {
    expect(cancel.stdout).toBe(`task ${started.id} cancelled\n`);
    const waited = await remote(['task', started.id, '--wait']);
    expect(waited.code).toBe(7);
    expect(waited.stderr).toContain(
      `error: check task ${started.id} was cancelled — see it with: kloud remote task ${started.id}`,
    );
  } else {
    // it ended before the cancel came
    expect(cancel.stderr).toMatch(/^error: TASK_ENDED: /);
  }
  const ended = await remote(['cancel', started.id]);
  expect(ended.code).toBe(1);
  expect(ended.stderr).toMatch(/^error: TASK_ENDED: /);
});

test('snapshots, ls and get: the bytes downloaded equal the original, inline and through a download link', async () => {
  const backedUp = await sandbox.ok(['at', store, 'ls', '--json'], { env: { KLOUD_PASSPHRASE: PASSPHRASE } });
  const listed = await remote(['snapshots', 'main', '--json']);
  expect(listed.code).toBe(0);
  const snapshots = listed.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(snapshots).toHaveLength(1);
  expect(snapshots[0]).toMatchObject({ id: JSON.parse(backedUp.stdout).id, sources: [source] });

  const ls = await remote(['ls', 'main', 'latest', source, '--json']);
  const entries = ls.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line));
  expect(entries.map((e: { name: string }) => e.name).sort()).toEqual([
    'large.bin',
    'notes.txt',
    'small.bin',
  ]);
  expect(entries.find((e: { name: string }) => e.name === 'large.bin')).toMatchObject({
    type: 'file',
    size: large.length,
  });
  expect((await remote(['ls', 'main', 'latest', source])).stdout).toMatch(/^-r\S{8} .* \S*large\.bin$/m);

  for (const [name, bytes] of [
    ['small.bin', small],
    ['large.bin', large],
  ] as const) {
    const out = sandbox.path(`got-${name}`);
    const got = await remote(['get', 'main', snapshots[0].id.slice(0, 8), `${source}/${name}`, '-o', out]);
    expect(got.code).toBe(0);
    expect(sha256(await readFile(out))).toBe(sha256(bytes));
  }
  const piped = await remote(['get', 'main', 'latest', `${source}/notes.txt`]);
  expect(piped).toMatchObject({ code: 0, stdout: 'hello' });
  const missing = await remote(['get', 'main', 'latest', `${source}/nothing`]);
  expect(missing.code).toBe(1);
  expect(missing.stderr).toMatch(/^error: PATH_NOT_FOUND: /);
});

test('check --wait of a damaged store exits 6 with the reason', async () => {
  const packs: string[] = [];
  for (const sub of await readdir(join(store, 'packs')))
    for (const name of await readdir(join(store, 'packs', sub))) packs.push(join(store, 'packs', sub, name));
  // a data pack (type 0 in the pack header), damaged in the middle
  const data = [];
  for (const pack of packs) if ((await readFile(pack)).readUInt16LE(6) !== 1) data.push(pack);
  const victim = data[0]!;
  const bytes = await readFile(victim);
  bytes[bytes.length >> 1] ^= 0xff;
  await writeFile(victim, bytes);

  const check = await remote(['check', 'main', '--read-data', '--wait']);
  expect(check.code).toBe(6);
  expect(check.stderr).toMatch(
    /error: check task [0-9a-f-]{36} failed: \S+: .+ — see it with: kloud remote task /,
  );
});
