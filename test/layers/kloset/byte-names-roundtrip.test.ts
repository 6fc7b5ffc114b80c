import { linkSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { syncSnapshots } from '../../../layers/kloset/index.js';
import { TreeReader } from '../../../layers/kloset/snapshot/tree-reader.js';
import { byteDigest, byteTree, writeByteTree } from './byte-trees.js';
import { newStore, removeTempDirs, tempDir } from './fixtures.js';

const latin1 = (s: string) => Buffer.from(s, 'latin1');

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
      // the source's own node (the directories above it, /tmp, change as others write there)
      const trees = new TreeReader(store.repo);
      const [was, now] = await Promise.all(
        [first, second].map(async (b) => (await trees.resolve(b.snapshot!.root, root)).entry),
      );
      expect(now).toEqual(was);
    } finally {
      await store.close();
    }
  });

  test('replacing, hard links, sync to another store, diff and find keep the bytes', async () => {
    const { store } = await newStore();
    const other = await newStore();
    const root = join(await tempDir(), 'src');
    mkdirSync(root);
    writeByteTree(Buffer.from(root), fc.sample(byteTree(2), { numRuns: 1, seed: 7 })[0]!);
    const cafe = Buffer.from(`${root}/caf\xe9`, 'latin1');
    writeFileSync(cafe, 'first');
    linkSync(cafe, latin1(`${root}/also \xe9`));
    try {
      const first = (await store.backup([root])).snapshot!;
      const to = await tempDir();
      expect((await store.restore(first.id, root, { to })).errors).toEqual([]);
      const restored = latin1(`${to}/src`);
      expect(statSync(latin1(`${to}/src/also \xe9`)).ino).toBe(statSync(latin1(`${to}/src/caf\xe9`)).ino);
      // every file and link is replaced through a name beside it
      writeFileSync(cafe, 'second, longer');
      const second = (await store.backup([root])).snapshot!;
      const replaced = await store.restore(second.id, root, { to, overwrite: 'always' });
      expect(replaced.errors).toEqual([]);
      expect(byteDigest(restored)).toEqual(byteDigest(Buffer.from(root)));

      const changes = [];
      for await (const c of store.diff({ ref: first.id }, { ref: second.id })) changes.push(c.path);
      expect(changes).toEqual(expect.arrayContaining([`${root}/caf\udce9`, `${root}/also \udce9`]));
      const found = [];
      for await (const f of store.find('caf?', {})) found.push(f.entry.path);
      expect(found).toEqual([`${root}/caf\udce9`, `${root}/caf\udce9`]);

      await syncSnapshots(store, other.store);
      const copied = await tempDir();
      const copy = (await other.store.snapshots())[0]!;
      expect((await other.store.restore(copy.id, root, { to: copied })).errors).toEqual([]);
      expect(byteDigest(latin1(`${copied}/src`))).toEqual(byteDigest(Buffer.from(root)));
    } finally {
      await store.close();
      await other.store.close();
    }
  });
});
