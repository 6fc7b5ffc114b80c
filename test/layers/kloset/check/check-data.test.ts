/**
 * checkData: check --read-data in slices, each ending at its deadline, resumed from a cursor;
 * the last slice answers the report one whole check gives.
 */
import { randomBytes } from 'node:crypto';
import { open, truncate } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckReport, DataCheckCursor, Store } from '../../../../layers/kloset/index.js';
import { TreeReader } from '../../../../layers/kloset/snapshot/tree-reader.js';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

/** Six files, each in a data pack of its own. */
async function storeOfPacks(): Promise<{ store: Store; location: string; src: string }> {
  const { store, location } = await newStore({ packSize: 64 * 1024, compression: 'none' });
  const src = join(await tempDir(), 'src');
  const files = Object.fromEntries(
    ['a', 'b', 'c', 'd', 'e', 'f'].map((n) => [`${n}.bin`, randomBytes(90_000)]),
  );
  await writeTree(src, { ...files, sub: { dir: { 'note.txt': 'hello' } } });
  await store.backup([src]);
  return { store, location, src };
}

async function packFileOf(store: Store, location: string, path: string): Promise<string> {
  const snap = await store.resolveSnapshot('latest');
  const { entry } = await new TreeReader(store.repo).resolve(snap.root, path);
  if (entry.type !== 'file') throw new Error('not a file');
  const pack = store.repo.index.find(Buffer.from(entry.chunks[0]!, 'hex'))!.pack.name;
  return join(location, 'packs', pack.slice(0, 2), pack);
}

/** Calls checkData with a deadline already past until it answers, counting the calls. */
async function checkInSlices(
  store: Store,
): Promise<{ report: CheckReport; calls: number; cursors: DataCheckCursor[] }> {
  const cursors: DataCheckCursor[] = [];
  for (let calls = 1; calls <= 100; calls++) {
    const step = await store.checkData({
      deadline: Date.now() - 1,
      ...(cursors.length > 0 && { cursor: cursors.at(-1)! }),
    });
    if (step.done) return { report: step.report, calls, cursors };
    // a cursor survives a trip through JSON (it is kept in a database item between calls)
    cursors.push(JSON.parse(JSON.stringify(step.cursor)) as DataCheckCursor);
  }
  throw new Error('checkData never finished');
}

test('a sound store checked one pack per call gives the report of one whole check', async () => {
  const { store } = await storeOfPacks();
  const whole = await store.check({ readData: true });
  const { report, calls, cursors } = await checkInSlices(store);
  expect(whole.ok).toBe(true);
  expect(calls).toBeGreaterThan(whole.stats.packs);
  expect(cursors.map((c) => c.after)).toEqual([...cursors.map((c) => c.after)].sort());
  expect(report).toEqual(whole);
});

test('a flipped byte found in an early slice still names the damaged file in the report', async () => {
  const { store, location, src } = await storeOfPacks();
  const fh = await open(await packFileOf(store, location, `${src}/c.bin`), 'r+');
  const byte = Buffer.alloc(1);
  await fh.read(byte, 0, 1, 4000);
  byte[0]! ^= 0xff;
  await fh.write(byte, 0, 1, 4000);
  await fh.close();
  const whole = await store.check({ readData: true });
  const { report, cursors } = await checkInSlices(store);
  expect(report).toEqual(whole);
  expect(report.ok).toBe(false);
  expect(report.problems.flatMap((p) => p.paths)).toEqual([`${src}/c.bin`]);
  expect(Object.keys(cursors.at(-1)!.damagedBlobs)).toHaveLength(1);
});

test('a truncated pack is carried in the cursor as a damaged pack', async () => {
  const { store, location, src } = await storeOfPacks();
  await truncate(await packFileOf(store, location, `${src}/e.bin`), 10_000);
  const { report, cursors } = await checkInSlices(store);
  expect(report.problems.flatMap((p) => p.paths)).toEqual([`${src}/e.bin`]);
  expect(Object.values(cursors.at(-1)!.damagedPacks)).toEqual([expect.stringMatching(/expected/)]);
});

test('with time to spare one call checks everything; an aborted signal stops before any pack', async () => {
  const { store } = await storeOfPacks();
  const step = await store.checkData({ deadline: Date.now() + 60_000 });
  expect(step).toMatchObject({ done: true, report: { ok: true } });
  const aborted = new AbortController();
  aborted.abort();
  const stopped = await store.checkData({ deadline: Date.now() + 60_000, signal: aborted.signal });
  expect(stopped).toMatchObject({ done: false, cursor: { after: '', bytesRead: 0 } });
});
