import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { spawnPrune } from './child-process.js';

afterAll(removeTempDirs);

const KILLS = 4;

test(`a prune SIGKILLed at ${KILLS} seeded moments leaves a valid store, and the next prune finishes`, async () => {
  const { store, location } = await newStore({ packSize: 64 * 1024 });
  const src = join(await tempDir(), 'src');
  await writeTree(src, { shared: randomBytes(100_000) });
  const round = async (i: number) => {
    await writeTree(src, { [`round-${i}.bin`]: randomBytes(150_000) });
    await store.backup([src]);
    await store.forget({ policy: { last: 2 } });
  };
  for (let i = 0; i < 4; i++) await round(i);

  // each forgotten snapshot's metadata pack keeps only its record (sync reads it): every run
  // rewrites packs too, so the kills also land in the repack
  expect((await store.prune({ dryRun: true, graceMs: 0 })).repacked.length).toBeGreaterThan(0);
  // how long an uninterrupted prune takes here, to spread the kill points over it
  const t0 = Date.now();
  expect((await spawnPrune(location).done).code).toBe(0);
  const span = Date.now() - t0;

  const delays = fc.sample(fc.integer({ min: 0, max: span }), { seed: 17, numRuns: KILLS });
  for (const [i, delay] of delays.entries()) {
    await round(10 + i);
    const run = spawnPrune(location);
    const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
    const result = await run.done;
    clearTimeout(timer);
    expect(result.code === 0 || result.code === null).toBe(true);
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.check({ readData: true })).problems).toEqual([]);
    expect(await reopened.snapshots()).toHaveLength(2);
  }

  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  await reopened.prune({ graceMs: 0 });
  expect((await reopened.check({ readData: true })).problems).toEqual([]);
  const to = await tempDir();
  await reopened.restore('latest', undefined, { to });
  expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
});
