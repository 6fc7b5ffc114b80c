import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import fc from 'fast-check';
import { openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { spawnBackup } from './child-process.js';

afterAll(removeTempDirs);

const KILLS = 20;

describe('interruption', () => {
  test(`a backup SIGKILLed at ${KILLS} random moments never breaks the store`, async () => {
    const { location } = await newStore({ packSize: 64 * 1024 });
    const src = join(await tempDir(), 'src');
    const files = Object.fromEntries(
      Array.from({ length: 120 }, (_, i) => [`f${i}.bin`, randomBytes(10_000 + 997 * i)]),
    );
    await writeTree(src, { ...files, big: { dir: { 'large.bin': randomBytes(3_000_000) } } });

    // how long an uninterrupted backup takes here, to spread the kill points over it
    const t0 = Date.now();
    const full = await spawnBackup(location, [src]).done;
    expect(full.code).toBe(0);
    const span = Date.now() - t0;
    const complete = new Set([full.stdout.trim()]);

    const delays = fc.sample(fc.integer({ min: 0, max: span }), { seed: 42, numRuns: KILLS });
    for (const [i, delay] of delays.entries()) {
      // a new file each round, so every run has new content to write when it is killed
      await writeTree(src, { [`round-${i}.bin`]: randomBytes(200_000) });
      const run = spawnBackup(location, [src]);
      const timer = setTimeout(() => run.child.kill('SIGKILL'), delay);
      const result = await run.done;
      clearTimeout(timer);
      if (result.code === 0) complete.add(result.stdout.trim());
      else expect(result.code).toBeNull(); // killed, not failed

      const store = await openStore(location, { passphrase: PASSPHRASE });
      const report = await store.check();
      expect(report.problems).toEqual([]);
      // every completed snapshot is listed, and nothing else but, at most, the one of a run
      // killed after its commit and before it could print the ID (it is whole: check passed)
      const listed = (await store.snapshots()).map((s) => s.id);
      const extra = listed.filter((id) => !complete.has(id));
      expect(listed.filter((id) => complete.has(id)).length).toBe(complete.size);
      expect(extra.length).toBeLessThanOrEqual(result.code === 0 ? 0 : 1);
      for (const id of extra) complete.add(id);
    }

    const store = await openStore(location, { passphrase: PASSPHRASE });
    const last = await store.backup([src]);
    expect(last.errors).toEqual([]);
    expect((await store.check({ readData: true })).problems).toEqual([]);
    const to = await tempDir();
    await store.restore('latest', undefined, { to });
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  }, 240_000); // 20 child processes, each a cold start of the engine: slow on a loaded machine
});
