import { randomBytes } from 'node:crypto';
import { createWriteStream } from 'node:fs';
import { mkdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import fc from 'fast-check';
import { type Spec, collect, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

/** Names a file system accepts that still stress the format: unicode, spaces, dots, quotes. */
const nameArb = fc
  .oneof(
    fc.stringMatching(/^[a-zA-Z0-9._ -]{1,20}$/),
    fc.constantFrom(
      'é',
      'ünïcødé 文件',
      '🙂 emoji',
      'quote\'"',
      'back\\slash',
      '-dash',
      '..hidden',
      ' spaced ',
      'a\nnewline',
    ),
  )
  .filter((n) => n !== '.' && n !== '..');

const fileArb: fc.Arbitrary<Spec> = fc.oneof(
  fc.uint8Array({ maxLength: 5000 }).map((b) => ({ content: Buffer.from(b), mode: 0o644 })),
  fc.constant({ content: '', mode: 0o600 }),
  fc.constant({ content: 'executable', mode: 0o755 }),
  fc.constantFrom({ symlink: 'target/elsewhere' }, { symlink: '/absolute/target' }, { symlink: '../up' }),
);

const treeArb: fc.Arbitrary<Record<string, Spec>> = fc.letrec((tie) => ({
  tree: fc.dictionary(nameArb, fc.oneof({ depthSize: 'small' }, fileArb, tie('dir')), {
    maxKeys: 6,
  }) as fc.Arbitrary<Record<string, Spec>>,
  dir: tie('tree').map((t) => ({ dir: t as Record<string, Spec> })),
})).tree;

describe('backup and restore round trip', () => {
  test('random trees come back byte for byte with modes, mtimes and symlinks', async () => {
    const { store } = await newStore();
    await fc.assert(
      fc.asyncProperty(treeArb, async (spec) => {
        const src = join(await tempDir(), 'src');
        await writeTree(src, spec);
        const result = await store.backup([src]);
        expect(result.errors).toEqual([]);
        const to = await tempDir();
        const restored = await store.restore(result.snapshot!.id, undefined, { to });
        expect(restored.errors).toEqual([]);
        expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
      }),
      { numRuns: 25 },
    );
  });

  test('empty files and directories, deep trees and several sources in one snapshot', async () => {
    const { store } = await newStore();
    const base = await tempDir();
    let deep: Record<string, Spec> = { 'leaf.txt': 'bottom' };
    for (let i = 0; i < 60; i++) deep = { [`level-${i}`]: { dir: deep } };
    await writeTree(join(base, 'a'), { empty: '', 'empty-dir': { dir: {} }, ...deep });
    await writeTree(join(base, 'b'), { 'one.txt': 'one', sub: { dir: { 'two.txt': 'two' } } });
    const result = await store.backup([join(base, 'a'), join(base, 'b')], { tags: ['daily'] });
    expect(result.snapshot!.sources).toEqual([join(base, 'a'), join(base, 'b')]);
    expect(result.snapshot!.tags).toEqual(['daily']);
    const top = await store.ls('latest', base);
    expect(top.map((e) => e.name)).toEqual(['a', 'b']);
    const to = await tempDir();
    await store.restore('latest', undefined, { to });
    expect(await treeDigest(join(to, base))).toEqual(await treeDigest(base));
  });

  test('cat streams one file and restore of one path restores just it', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    const big = randomBytes(3 * 1024 * 1024);
    await writeTree(src, { 'big.bin': big, dir: { dir: { 'x.txt': 'x' } } });
    await store.backup([src]);
    expect((await collect(store.cat('latest', `${src}/big.bin`))).equals(big)).toBe(true);
    const to = await tempDir();
    await store.restore('latest', `${src}/dir/x.txt`, { to });
    expect(await treeDigest(to)).toEqual({ 'x.txt': expect.objectContaining({ type: 'file', size: 1 }) });
    await expect(store.ls('latest', `${src}/nope`)).rejects.toMatchObject({ code: 'PATH_NOT_FOUND' });
  });

  test('a 300 MB file round-trips', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await mkdir(src);
    const out = createWriteStream(join(src, 'large.bin'));
    // 150 MB of one repeated random block (dedups within the file), then 150 MB of fresh noise
    const block = randomBytes(1024 * 1024);
    for (let i = 0; i < 300; i++) {
      const piece = i >= 150 ? randomBytes(1024 * 1024) : block;
      if (!out.write(piece)) await new Promise<void>((r) => out.once('drain', () => r()));
    }
    await new Promise<void>((r) => out.end(() => r()));
    const result = await store.backup([src]);
    expect(result.summary.bytes).toBe(300 * 1024 * 1024);
    expect(result.summary.newBytes).toBeLessThan(170 * 1024 * 1024);
    const to = await tempDir();
    await store.restore('latest', undefined, { to });
    expect((await stat(join(to, src, 'large.bin'))).size).toBe(300 * 1024 * 1024);
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  });
});
