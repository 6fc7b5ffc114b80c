/**
 * Damage said out loud (issue 11, findings 1–4): check trusts no cache, listings degrade, a
 * damaged config or key slot is check's finding, temporary files of killed writers go.
 */
import { readdir, readFile, truncate, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { Sandbox } from './sandbox.js';

let sandbox: Sandbox;
beforeEach(async () => {
  sandbox = await Sandbox.create();
});
afterEach(() => sandbox.dispose());

const secret = { KLOUD_PASSPHRASE: 'correct horse' };

/** A store with two snapshots of two folders; what the first backup wrote, by kind. */
async function twoSnapshots(store: string) {
  await sandbox.createStore(store, secret.KLOUD_PASSPHRASE);
  const a = await sandbox.writeTree('a', { 'one.txt': 'first '.repeat(1000), 'd/two.txt': 'second' });
  const b = await sandbox.writeTree('b', { 'three.txt': 'third' });
  await sandbox.ok(['at', store, 'backup', a], { env: secret });
  const delta = (await readdir(join(store, 'index')))[0]!;
  const packs = await packFiles(store);
  await sandbox.ok(['at', store, 'backup', b], { env: secret });
  const listed = (await sandbox.ok(['at', store, 'ls', '--json'], { env: secret })).stdout;
  const ids = listed
    .trim()
    .split('\n')
    .map((line) => JSON.parse(line) as { id: string; sources: string[] });
  const first = ids.find((s) => s.sources[0] === a)!.id;
  const second = ids.find((s) => s.sources[0] === b)!.id;
  const metadata: string[] = [];
  for (const p of packs) if ((await readFile(p)).readUInt16LE(6) === 1) metadata.push(p);
  return { a, b, delta, first, second, metadataPack: metadata[0]! };
}

async function packFiles(store: string): Promise<string[]> {
  const out: string[] = [];
  for (const sub of await readdir(join(store, 'packs')))
    for (const name of await readdir(join(store, 'packs', sub))) out.push(join(store, 'packs', sub, name));
  return out;
}

test('a truncated index delta is found with a warm cache; ls lists the rest and exits 3; repair brings it back', async () => {
  const store = sandbox.path('store');
  const { a, b, delta, first } = await twoSnapshots(store);
  // the cache (under the sandbox's HOME) is warm: it merged both deltas
  expect(await readdir(join(sandbox.home, '.cache', 'kloud'))).toHaveLength(1);
  await truncate(join(store, 'index', delta), 100);

  const check = await sandbox.run(['at', store, 'check', '--read-data'], { env: secret });
  expect(check.code).toBe(4);
  expect(check.stdout).toContain(`problem: index delta ${delta.slice(0, 12)} is damaged`);
  expect(check.stdout).toMatch(
    new RegExp(`snapshot ${first.slice(0, 12)} .* listed by no readable index \\(kloud repair lists it\\)`),
  );
  expect(check.stdout).not.toMatch(/harmless/);

  const ls = await sandbox.run(['at', store, 'ls'], { env: secret });
  expect(ls.code).toBe(3);
  expect(ls.stdout).toContain(b);
  expect(ls.stdout).not.toContain(a);
  expect(ls.stderr).toMatch(new RegExp(`^warning: not listed: index delta ${delta.slice(0, 12)} is damaged`));

  const dry = await sandbox.run(['at', store, 'repair', '--dry-run'], { env: secret });
  expect(dry.code).toBe(4);
  expect(dry.stdout).toMatch(/would list again: snapshot .*\ndry run: nothing was changed\n$/);
  expect(await readdir(join(store, 'index'))).toContain(delta);

  const repaired = await sandbox.run(['at', store, 'repair', '--json'], { env: secret });
  expect(repaired.code).toBe(0);
  const report = JSON.parse(repaired.stdout);
  expect(report.recoveredSnapshots.map((s: { id: string }) => s.id)).toEqual([first]);
  expect(report.remaining).toEqual([]);
  expect(await readdir(join(store, 'index'))).not.toContain(delta);

  const after = await sandbox.ok(['at', store, 'ls'], { env: secret });
  expect(after.stdout).toContain(a);
  expect(after.stderr).toBe('');
  await sandbox.ok(['at', store, 'check', '--read-data'], { env: secret });
});

test('a truncated snapshot record hides no other snapshot: ls lists the rest, restore of another works', async () => {
  const store = sandbox.path('store');
  const { b, metadataPack, first, second } = await twoSnapshots(store);
  await truncate(metadataPack, 200);

  const ls = await sandbox.run(['at', store, 'ls'], { env: secret });
  expect(ls.code).toBe(3);
  expect(ls.stdout).toContain(b);
  expect(ls.stderr).toContain(`warning: not listed: snapshot ${first.slice(0, 12)}`);

  const to = sandbox.path('restored');
  await sandbox.ok(['at', store, 'restore', second.slice(0, 8), '--to', to], { env: secret });
  expect(await readFile(join(to, b, 'three.txt'), 'utf8')).toBe('third');

  const check = await sandbox.run(['at', store, 'check'], { env: secret });
  expect(check.code).toBe(4);
  expect(check.stdout).toContain(`pack ${metadataPack.split('/').pop()!.slice(0, 12)}`);
});

test('check says what a damaged config or key slot means, also as JSON', async () => {
  const store = sandbox.path('store');
  await sandbox.createStore(store, secret.KLOUD_PASSPHRASE);
  const slot = join(store, 'keys', (await readdir(join(store, 'keys')))[0]!);
  const slotBytes = await readFile(slot);
  slotBytes[20] ^= 1;
  await writeFile(slot, slotBytes);
  const badSlot = await sandbox.run(['at', store, 'check'], { env: secret });
  expect(badSlot.code).toBe(4);
  expect(badSlot.stdout).toMatch(
    /^problem: every key slot of .* is damaged\n {2}.*use another passphrase.*restore the slot from a copy/m,
  );
  expect(badSlot.stdout).not.toMatch(/run kloud check/);
  const slotJson = await sandbox.run(['at', store, 'check', '--json'], { env: secret });
  expect(slotJson.code).toBe(4);
  expect(JSON.parse(slotJson.stdout)).toMatchObject({
    ok: false,
    problems: [{ advice: expect.stringMatching(/passphrase/) }],
  });

  await truncate(join(store, 'config'), 30);
  const badConfig = await sandbox.run(['at', store, 'check', '--json'], { env: secret });
  expect(badConfig.code).toBe(4);
  const report = JSON.parse(badConfig.stdout);
  expect(report.problems[0].message).toMatch(/store config at .* is truncated/);
  expect(report.problems[0].advice).toMatch(/cannot be opened.*restore the config object from a copy/);
  const text = await sandbox.run(['at', store, 'check'], { env: secret });
  expect(text.code).toBe(4);
  expect(text.stderr).toBe('');
});

test('check counts temporary files of killed writers; the next backup removes those older than a day', async () => {
  const store = sandbox.path('store');
  await sandbox.ok(['at', store, 'create', '--plaintext']);
  const old = new Date(Date.now() - 2 * 24 * 3600 * 1000);
  for (const name of ['killed-1', 'killed-2', 'running']) {
    await writeFile(join(store, 'tmp', name), Buffer.alloc(500_000));
    if (name !== 'running') await utimes(join(store, 'tmp', name), old, old);
  }
  const check = await sandbox.ok(['at', store, 'check']);
  expect(check.stdout).toContain('note: 3 temporary file(s) in tmp/ (1.5 MB), 2 older than a day');
  expect(JSON.parse((await sandbox.ok(['at', store, 'check', '--json'])).stdout).stats).toMatchObject({
    temporaryFiles: 3,
    temporaryBytes: 1_500_000,
  });
  await sandbox.writeTree('data', { 'x.txt': 'x' });
  await sandbox.ok(['at', store, 'backup', sandbox.path('data')]);
  expect(await readdir(join(store, 'tmp'))).toEqual(['running']);
});

test('a damaged index delta: rm and sync name it for a ref it hides; sync, find and info say what they left out and exit 3', async () => {
  const store = sandbox.path('store');
  const other = sandbox.path('other');
  const { b, delta, first } = await twoSnapshots(store);
  const env = { ...secret, KLOUD_OTHER_PASSPHRASE: 'correct horse' };
  await sandbox.createStore(other, env.KLOUD_OTHER_PASSPHRASE);
  await truncate(join(store, 'index', delta), 100);
  const damaged = `index delta ${delta.slice(0, 12)} is damaged`;

  for (const command of [
    ['rm', first.slice(0, 8)],
    ['sync', 'to', other, first.slice(0, 8)],
  ]) {
    const refused = await sandbox.run(['at', store, ...command], { env });
    expect(refused.code).not.toBe(0);
    expect(refused.stderr).toContain(damaged);
    expect(refused.stderr).not.toMatch(/^error: no snapshot [0-9a-f]+$/m);
  }

  const sync = await sandbox.run(['at', store, 'sync', 'to', other], { env });
  expect(sync.code).toBe(3);
  expect(sync.stderr).toContain(`warning: not copied: ${damaged}`);
  expect((await sandbox.ok(['at', other, 'ls'], { env: secret })).stdout).toContain(b);

  const find = await sandbox.run(['at', store, 'find', '*.txt'], { env: secret });
  expect(find.code).toBe(3);
  expect(find.stdout).toContain('three.txt');
  expect(find.stderr).toContain(`warning: not searched: ${damaged}`);

  const info = await sandbox.run(['at', store, 'info', '--json'], { env: secret });
  expect(info.code).toBe(3);
  expect(JSON.parse(info.stdout).unreadable[0]).toContain(damaged);
  expect(info.stderr).toContain(`warning: not counted: ${damaged}`);
});
