/** `sync to|from|with`: two stores, each with its own passphrase, through the built CLI. */
import { writeFile } from 'node:fs/promises';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
let here: string;
let there: string;
const HERE = { KLOUD_PASSPHRASE: 'passphrase here' };
const THERE = { KLOUD_PASSPHRASE: 'passphrase there' };
const BOTH = { ...HERE, KLOUD_OTHER_PASSPHRASE: THERE.KLOUD_PASSPHRASE };

beforeEach(async () => {
  sandbox = await Sandbox.create();
  here = sandbox.path('here');
  there = sandbox.path('there');
});
afterEach(() => sandbox.dispose());

async function backup(store: string, env: Record<string, string>, files: Record<string, string>) {
  const data = await sandbox.writeTree('data', files);
  const run = await sandbox.ok(['at', store, 'backup', data, '--json'], { env });
  return JSON.parse(run.stdout).snapshot as string;
}

async function snapshots(store: string, env: Record<string, string>) {
  const run = await sandbox.ok(['at', store, 'ls', '--json'], { env });
  return run.stdout
    .trim()
    .split('\n')
    .filter((line) => line !== '')
    .map((line) => JSON.parse(line) as { id: string; origin?: string });
}

test('sync to a store created with the same chunking; again, nothing is copied', async () => {
  await sandbox.createStore(here, HERE.KLOUD_PASSPHRASE);
  const id = await backup(here, HERE, { 'a.txt': 'a\n'.repeat(1000), 'b/c.bin': 'c'.repeat(5000) });
  await sandbox.ok(['at', there, 'create', '--copy-chunking-from', here], { env: THERE });
  const file = sandbox.path('there.pass');
  await writeFile(file, `${THERE.KLOUD_PASSPHRASE}\n`);

  const run = await sandbox.ok(['at', here, 'sync', 'to', there, '--other-passphrase-file', file], {
    env: HERE,
  });

  const [copy] = await snapshots(there, THERE);
  expect(run.stdout).toBe(`copied ${id.slice(0, 8)} as ${copy!.id.slice(0, 8)}\n`);
  expect(run.stderr).toMatch(
    new RegExp(`^1 snapshot copied from ${here} to ${there}; read .*, added .*\\n$`),
  );
  const again = await sandbox.ok(['at', here, 'sync', 'to', there, '--json'], { env: BOTH });
  expect(JSON.parse(again.stdout)).toEqual({
    from: here,
    to: there,
    copied: [],
    skipped: 1,
    bytesRead: 0,
    newBytes: 0,
    storedBytes: 0,
    warnings: [],
  });
  const info = async (store: string, env: Record<string, string>) =>
    JSON.parse((await sandbox.ok(['at', store, 'info', '--json'], { env })).stdout) as { blobs: unknown };
  // the same chunking: the same blobs, one for one
  expect((await info(there, THERE)).blobs).toEqual((await info(here, HERE)).blobs);
});

test('sync from copies the named snapshots; sync with, both ways, takes passphrases from aliases', async () => {
  await sandbox.createStore(here, HERE.KLOUD_PASSPHRASE);
  await sandbox.createStore(there, THERE.KLOUD_PASSPHRASE);
  const older = await backup(there, THERE, { 'old.txt': 'old' });
  const newer = await backup(there, THERE, { 'new.txt': 'new' });

  const from = await sandbox.ok(['at', here, 'sync', 'from', there, newer.slice(0, 6), '--json'], {
    env: BOTH,
  });
  expect(JSON.parse(from.stdout)).toMatchObject({ from: there, to: here, copied: [{ from: newer }] });

  await sandbox.ok(['store', 'add', 'here', here, `passphrase=${HERE.KLOUD_PASSPHRASE}`]);
  await sandbox.ok(['store', 'add', 'there', there, `passphrase=${THERE.KLOUD_PASSPHRASE}`]);
  const both = await sandbox.ok(['at', '@here', 'sync', 'with', '@there', '--json']);
  const [toThere, toHere] = both.stdout
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { copied: { from: string }[]; skipped: number });
  expect(toThere).toMatchObject({ copied: [], skipped: 1 });
  expect(toHere).toMatchObject({ copied: [{ from: older }], skipped: 1 });
  expect(await snapshots(here, HERE)).toHaveLength(2);
});

test("the other store never gets this store's passphrase, and a missing one says how to create it", async () => {
  await sandbox.createStore(here, HERE.KLOUD_PASSPHRASE);
  await backup(here, HERE, { 'a.txt': 'a' });

  const missing = await sandbox.run(['at', here, 'sync', 'to', there], { env: HERE });
  expect(missing.code).toBe(1);
  expect(missing.stderr).toBe(
    `error: no store at ${there} — create one with: kloud at ${there} create --copy-chunking-from ${here}\n`,
  );

  await sandbox.createStore(there, THERE.KLOUD_PASSPHRASE);
  const none = await sandbox.run(['at', here, 'sync', 'to', there], { env: HERE });
  expect(none.code).toBe(1);
  expect(none.stderr).toBe(
    `error: no passphrase for ${there} — use --other-passphrase-file FILE, set KLOUD_OTHER_PASSPHRASE, or run the command in a terminal\n`,
  );
  const wrong = await sandbox.run(['at', here, 'sync', 'to', there], {
    env: { ...HERE, KLOUD_OTHER_PASSPHRASE: 'not it' },
  });
  expect(wrong.code).toBe(1);
  expect(wrong.stderr).toMatch(/^error: wrong passphrase for .*there \(from \$KLOUD_OTHER_PASSPHRASE\) — /);
  expect(await snapshots(there, THERE)).toEqual([]);
});

test('copies into a plaintext store come with a note saying so', async () => {
  await sandbox.createStore(here, HERE.KLOUD_PASSPHRASE);
  await backup(here, HERE, { 'a.txt': 'a' });
  await sandbox.ok(['at', there, 'create', '--plaintext']);
  const run = await sandbox.ok(['at', here, 'sync', 'to', there], { env: HERE });
  expect(run.stderr).toMatch(
    new RegExp(`\\nnote: ${there} is not encrypted: anyone who can read it can read these copies\\n$`),
  );
});

test('usage errors: a direction that is not to, from or with; snapshots with "with"', async () => {
  const sideways = await sandbox.run(['at', here, 'sync', 'sideways', there]);
  expect(sideways.code).toBe(2);
  expect(sideways.stderr).toMatch(/^error: .*'sideways'.*Allowed choices are to, from, with/);
  const named = await sandbox.run(['at', here, 'sync', 'with', there, 'latest']);
  expect(named.code).toBe(2);
  expect(named.stderr).toMatch(/^error: sync with copies every snapshot both ways — /);
});
