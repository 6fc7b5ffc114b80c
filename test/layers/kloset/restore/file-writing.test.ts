import { createHash, randomBytes } from 'node:crypto';
import { readFileSync, readdirSync } from 'node:fs';
import { link, lstat, mkdir, open, readFile, stat, symlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Store } from '../../../../layers/kloset/index.js';
import { FileBatches } from '../../../../layers/kloset/restore/file-batches.js';
import { WorkerPool } from '../../../../layers/kloset/workers/worker-pool.js';
import type { FileEntry } from '../../../../layers/kloset/core/tree-node.js';
import { TreeReader } from '../../../../layers/kloset/snapshot/tree-reader.js';
import { newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

const OLD = new Date('2021-06-01T12:00:00Z');

/** The file entries of the latest snapshot's source directory, by name. */
async function fileEntries(store: Store, src: string): Promise<Map<string, FileEntry>> {
  const snap = await store.resolveSnapshot('latest');
  const trees = new TreeReader(store.repo);
  const { entry } = await trees.resolve(snap.root, src);
  if (entry.type !== 'dir') throw new Error('not a directory');
  const files = (await trees.entries(entry.subtree)).filter((e): e is FileEntry => e.type === 'file');
  return new Map(files.map((f) => [f.name, f]));
}

/**
 * The SHA-256 of a file's bytes: comparing digests says what comparing the bytes says, where
 * jest's toEqual on Buffers of a few hundred KiB walks them key by key (seconds of CPU per file).
 */
const digestOf = (bytes: Buffer) => createHash('sha256').update(bytes).digest('hex');

function fileToWrite(entry: FileEntry, path: string) {
  return { path, size: entry.size, mode: entry.mode, mtime: Number(BigInt(entry.mtime)) / 1e9 };
}

describe('restore into a new directory', () => {
  test('new files come back with their content, permission bits and times', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'plain.txt': { content: 'plain', mtime: OLD },
      'read-only.txt': { content: 'cannot be written once restored', mode: 0o400, mtime: OLD },
      'tool.sh': { content: '#!/bin/sh\necho hi\n', mode: 0o4755, mtime: OLD },
      'group.txt': { content: 'group-writable, against a 022 umask', mode: 0o664, mtime: OLD },
      'big.bin': { content: randomBytes(3 * 1024 * 1024), mtime: OLD },
      empty: { content: '', mtime: OLD },
      sub: { dir: { 'deep.txt': { content: 'deep', mtime: OLD } } },
    });
    await store.backup([src]);
    const to = await tempDir();
    const result = await store.restore('latest', undefined, { to });
    expect(result.errors).toEqual([]);
    expect(await treeDigest(join(to, src))).toEqual(await treeDigest(src));
  });

  test('hard-linked files come back as one file with several names', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'a.txt': 'shared content', other: { dir: {} } });
    await link(join(src, 'a.txt'), join(src, 'other', 'b.txt'));
    await link(join(src, 'a.txt'), join(src, 'c.txt'));
    await store.backup([src]);
    const to = await tempDir();
    const result = await store.restore('latest', undefined, { to });
    expect(result.errors).toEqual([]);
    const inodes = await Promise.all(
      ['a.txt', 'c.txt', 'other/b.txt'].map(async (n) => (await stat(join(to, src, n))).ino),
    );
    expect(new Set(inodes).size).toBe(1);
    expect(await readFile(join(to, src, 'other/b.txt'), 'utf8')).toBe('shared content');
  });

  test('a hard link whose first name fails is written on its own, and the restore ends', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'a.txt': 'shared content', other: { dir: {} }, 'z.txt': 'intact' });
    await link(join(src, 'a.txt'), join(src, 'other', 'b.txt'));
    await link(join(src, 'a.txt'), join(src, 'c.txt'));
    await store.backup([src]);
    // one bit flipped in the shared blob: every name fails, after the walk has ended
    const [chunk] = (await fileEntries(store, src)).get('a.txt')!.chunks;
    const loc = store.repo.index.find(Buffer.from(chunk!, 'hex'))!;
    const pack = await open(join(location, 'packs', loc.pack.name.slice(0, 2), loc.pack.name), 'r+');
    await pack.write(Buffer.of(0xff), 0, 1, loc.offset + 20);
    await pack.close();
    const to = await tempDir();
    let timer: NodeJS.Timeout | undefined;
    const hung = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error('the restore did not end')), 20_000);
    });
    const result = await Promise.race([store.restore('latest', undefined, { to }), hung]).finally(() =>
      clearTimeout(timer),
    );
    expect(result.errors.map((e) => e.path.slice(join(to, src).length + 1)).sort()).toEqual([
      'a.txt',
      'c.txt',
      'other/b.txt',
    ]);
    expect(await readFile(join(to, src, 'z.txt'), 'utf8')).toBe('intact');
  });
});

describe('file batches written by worker threads', () => {
  let store: Store;
  let src: string;
  let files: Map<string, FileEntry>;

  beforeAll(async () => {
    ({ store } = await newStore());
    src = join(await tempDir(), 'src');
    const spec: Record<string, { content: Buffer; mode: number; mtime: Date }> = {};
    for (let i = 0; i < 40; i++)
      spec[`f${i}.bin`] = { content: randomBytes(1000 + i * 5000), mode: 0o640, mtime: OLD };
    await writeTree(src, spec);
    await store.backup([src]);
    files = await fileEntries(store, src);
  }, 60_000);

  test('threads write every file handed over, whole', async () => {
    const to = await tempDir();
    const batches = new FileBatches(store.repo, { threads: 2, mainThreadBytes: 0 });
    const written: Promise<void>[] = [];
    for (const [name, entry] of files)
      written.push((await batches.add(fileToWrite(entry, join(to, name)), entry.chunks)).written);
    await batches.close();
    await Promise.all(written);
    for (const name of files.keys()) {
      expect(digestOf(await readFile(join(to, name)))).toBe(digestOf(await readFile(join(src, name))));
      const st = await lstat(join(to, name));
      expect(st.mode & 0o7777).toBe(0o640);
      expect(st.mtime.getTime()).toBe(OLD.getTime());
    }
  }, 60_000);

  test('threads create files whose names are not UTF-8 under those very bytes', async () => {
    const to = await tempDir();
    const batches = new FileBatches(store.repo, { threads: 1, mainThreadBytes: 0 });
    const entry = files.get('f1.bin')!;
    const { written } = await batches.add(fileToWrite(entry, join(to, 'caf\udce9')), entry.chunks);
    await batches.close();
    await written;
    expect(readdirSync(to, { encoding: 'buffer' })).toEqual([Buffer.from('caf\xe9', 'latin1')]);
    expect(digestOf(readFileSync(Buffer.from(`${to}/caf\xe9`, 'latin1')))).toBe(
      digestOf(await readFile(join(src, 'f1.bin'))),
    );
  }, 60_000);

  test('nothing in the way is replaced or followed, and the other files are written', async () => {
    const to = await tempDir();
    const outside = join(await tempDir(), 'outside.txt');
    await mkdir(to, { recursive: true });
    await writeFile(join(to, 'f1.bin'), 'mine');
    await symlink(outside, join(to, 'f2.bin'));
    const batches = new FileBatches(store.repo, { threads: 1, mainThreadBytes: 0 });
    const outcomes: Promise<string>[] = [];
    for (const [name, entry] of files) {
      const { written } = await batches.add(fileToWrite(entry, join(to, name)), entry.chunks);
      outcomes.push(
        written.then(
          () => 'written',
          (err: Error) => err.message,
        ),
      );
    }
    await batches.close();
    const byName = new Map([...files.keys()].map((n, i) => [n, outcomes[i]!]));
    expect(await byName.get('f1.bin')).toMatch(/EEXIST/);
    expect(await byName.get('f2.bin')).toMatch(/EEXIST/);
    expect(await byName.get('f3.bin')).toBe('written');
    expect(await readFile(join(to, 'f1.bin'), 'utf8')).toBe('mine');
    expect((await lstat(join(to, 'f2.bin'))).isSymbolicLink()).toBe(true);
    await expect(lstat(outside)).rejects.toThrow(/ENOENT/);
  }, 60_000);

  test('a file whose content is not its recorded size is reported and removed', async () => {
    const to = await tempDir();
    const entry = files.get('f5.bin')!;
    const batches = new FileBatches(store.repo, { threads: 1, mainThreadBytes: 0 });
    const { written } = await batches.add(
      { ...fileToWrite(entry, join(to, 'f5.bin')), size: entry.size + 1 },
      entry.chunks,
    );
    await batches.close();
    await expect(written).rejects.toThrow(`content is ${entry.size} bytes, expected ${entry.size + 1}`);
    await expect(lstat(join(to, 'f5.bin'))).rejects.toThrow(/ENOENT/);
  }, 60_000);

  test('a writing thread that dies fails its files and the restore', async () => {
    const to = await tempDir();
    const batches = new FileBatches(store.repo, {
      mainThreadBytes: 0,
      startWriters: (settings) =>
        new WorkerPool('writing', new URL('./crashing-write-worker.js', import.meta.url), 1, settings),
    });
    const [name, entry] = [...files][0]!;
    const { written } = await batches.add(fileToWrite(entry, join(to, name)), entry.chunks);
    const outcome = written.then(
      () => 'written',
      (err: Error) => err.message,
    );
    await expect(batches.close()).rejects.toThrow(
      'a writing worker thread failed: simulated crash while writing',
    );
    expect(await outcome).toMatch(/writing worker thread failed/);
  }, 60_000);
});
