import { randomBytes } from 'node:crypto';
import { join } from 'node:path';
import { openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';
import { spawnBackup } from './child-process.js';

afterAll(removeTempDirs);

describe('concurrent writers', () => {
  test('four backups at once into one store, with a check running, all produce valid snapshots', async () => {
    const { location } = await newStore({ packSize: 64 * 1024 });
    const base = await tempDir();
    const shared = randomBytes(300_000); // every writer stores this: concurrent dedup races
    const sources = await Promise.all(
      [0, 1, 2, 3].map(async (i) => {
        const src = join(base, `src${i}`);
        const files = Object.fromEntries(
          Array.from({ length: 30 }, (_, j) => [`f${j}.bin`, randomBytes(20_000 + i * j)]),
        );
        await writeTree(src, {
          ...files,
          'shared.bin': shared,
          sub: { dir: { [`own${i}.txt`]: `writer ${i}` } },
        });
        return src;
      }),
    );
    const runs = sources.map((src) => spawnBackup(location, [src]));
    const checker = await openStore(location, { passphrase: PASSPHRASE });
    const duringCheck = await checker.check();
    const results = await Promise.all(runs.map((r) => r.done));
    for (const r of results) expect(r).toMatchObject({ code: 0, stderr: '' });
    expect(duringCheck.ok).toBe(true);

    const store = await openStore(location, { passphrase: PASSPHRASE });
    const ids = results.map((r) => r.stdout.trim());
    expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([...ids].sort());
    const report = await store.check({ readData: true });
    expect(report.problems).toEqual([]);
    for (const [i, id] of ids.entries()) {
      const to = await tempDir();
      await store.restore(id, undefined, { to });
      expect(await treeDigest(join(to, sources[i]!))).toEqual(await treeDigest(sources[i]!));
    }
  });
});
