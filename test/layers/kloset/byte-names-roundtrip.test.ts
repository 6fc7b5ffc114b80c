import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { byteDigest, byteTree, writeByteTree } from './byte-trees.js';
import { newStore, removeTempDirs, tempDir } from './fixtures.js';

afterAll(removeTempDirs);

describe('names of any bytes, local disk to local disk', () => {
  test('backup then restore gives back the same names, contents and link targets, byte for byte', async () => {
    const { store } = await newStore();
    const work = await tempDir();
    let run = 0;
    try {
      await fc.assert(
        fc.asyncProperty(byteTree(2), async (tree) => {
          const root = join(work, `src${run}`);
          const to = join(work, `to${run++}`);
          mkdirSync(root);
          writeByteTree(Buffer.from(root), tree);
          const { snapshot, errors } = await store.backup([root]);
          expect(errors).toEqual([]);
          const restored = await store.restore(snapshot!.id, undefined, { to });
          expect(restored.errors).toEqual([]);
          expect(byteDigest(Buffer.from(join(to, root)))).toEqual(byteDigest(Buffer.from(root)));
        }),
        { numRuns: 12 },
      );
    } finally {
      await store.close();
    }
  });

  test('a second backup of the same tree reads nothing again and reuses every node', async () => {
    const { store } = await newStore();
    const root = join(await tempDir(), 'src');
    mkdirSync(root);
    const tree = fc.sample(byteTree(2), { numRuns: 1, seed: 11 })[0]!;
    writeByteTree(Buffer.from(root), tree);
    try {
      const first = await store.backup([root]);
      const second = await store.backup([root]);
      expect(second.snapshot!.summary.filesRead).toBe(0);
      expect(second.snapshot!.root).toBe(first.snapshot!.root);
    } finally {
      await store.close();
    }
  });
});
