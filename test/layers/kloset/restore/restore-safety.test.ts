import { lstat, mkdir, readdir, symlink, writeFile, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { BlobType } from '../../../../layers/kloset/format/blob.js';
import type { Store } from '../../../../layers/kloset/index.js';
import { RepositoryWriter } from '../../../../layers/kloset/repository/repository-writer.js';
import { encodeSnapshot } from '../../../../layers/kloset/snapshot/snapshot-record.js';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

const meta = { mode: 0o644, uid: 0, gid: 0, mtime: '1700000000000000000' };

/**
 * Writes a snapshot whose root directory holds the given raw entries, bypassing every check a
 * backup makes: what a malicious or buggy writer could put in a store.
 */
async function craftSnapshot(store: Store, entries: object[]): Promise<string> {
  const writer = new RepositoryWriter(store.repo);
  const save = async (type: BlobType, body: unknown) =>
    (await writer.saveBlob(type, Buffer.from(JSON.stringify(body)))).id.toString('hex');
  const payload = await save(BlobType.Data, 'owned');
  const withChunks = entries.map((e) => ('chunks' in e ? { ...e, chunks: [payload] } : e));
  const root = await save(BlobType.Tree, { v: 1, entries: withChunks });
  const summary = {
    files: 1,
    dirs: 0,
    symlinks: 0,
    bytes: 7,
    filesRead: 1,
    newBytes: 7,
    storedBytes: 7,
    durationMs: 1,
  };
  const body = {
    v: 1,
    time: new Date().toISOString(),
    hostname: 'evil',
    username: 'evil',
    tags: [],
    sources: ['/'],
    root,
    summary,
    errors: [],
  };
  const id = (await writer.saveBlob(BlobType.Snapshot, encodeSnapshot(body))).id.toString('hex');
  await writer.commit({ snapshots: [id] });
  await store.repo.refreshIndex();
  return id;
}

async function outsideUntouched(outside: string): Promise<void> {
  expect(await readdir(outside)).toEqual(['keep.txt']);
  expect(await readFile(join(outside, 'keep.txt'), 'utf8')).toBe('mine');
}

describe('restore never writes outside the target', () => {
  let store: Store;
  let base: string;
  let target: string;
  let outside: string;

  beforeEach(async () => {
    ({ store } = await newStore());
    base = await tempDir();
    target = join(base, 'target');
    outside = join(base, 'outside');
    await writeTree(outside, { 'keep.txt': 'mine' });
  });

  test.each([
    ['a parent reference', '..'],
    ['a path with ../', '../outside/keep.txt'],
    ['an absolute path', '/tmp/outside/keep.txt'],
    ['a name with a slash', 'a/b'],
    ['an empty name', ''],
  ])('%s as a file name is refused', async (_what, name) => {
    const id = await craftSnapshot(store, [{ ...meta, name, type: 'file', size: 5, chunks: [] }]);
    const result = await store.restore(id, undefined, { to: target }).catch((err: Error) => err);
    const failed = result instanceof Error ? [result.message] : result.errors.map((e) => e.message);
    expect(failed.join('\n')).toMatch(/unsafe entry name|invalid/);
    await outsideUntouched(outside);
    expect(await readdir(target).catch(() => [])).toEqual([]);
  });

  test('a symlink and a directory of the same name are refused', async () => {
    const id = await craftSnapshot(store, [
      { ...meta, name: 'x', type: 'symlink', target: outside },
      { ...meta, name: 'x', type: 'dir', subtree: 'ab'.repeat(32) },
    ]);
    await expect(store.restore(id, undefined, { to: target })).rejects.toMatchObject({ code: 'CORRUPT' });
    await outsideUntouched(outside);
  });

  test('a symlink already in the target is not followed', async () => {
    const src = join(await tempDir(), 'src');
    await writeTree(src, { dir: { dir: { 'keep.txt': 'from the snapshot' } } });
    await store.backup([src]);
    // the target already holds <src>/dir as a symlink to the outside directory
    await mkdir(join(target, src), { recursive: true });
    await symlink(outside, join(target, src, 'dir'));
    const result = await store.restore('latest', undefined, { to: target, overwrite: 'always' });
    expect(result.errors.map((e) => e.path)).toEqual([join(target, src, 'dir')]);
    expect((await lstat(join(target, src, 'dir'))).isSymbolicLink()).toBe(true);
    await outsideUntouched(outside);
  });

  test('overwrite policies: never keeps, if-newer compares mtimes, always replaces', async () => {
    const src = join(await tempDir(), 'src');
    const old = new Date('2020-01-01T00:00:00Z');
    await writeTree(src, { 'f.txt': { content: 'snapshot', mtime: old } });
    await store.backup([src]);
    const dest = join(target, src, 'f.txt');
    await mkdir(join(target, src), { recursive: true });

    await writeFile(dest, 'local');
    expect((await store.restore('latest', undefined, { to: target })).skipped).toBe(1);
    expect(await readFile(dest, 'utf8')).toBe('local');

    await store.restore('latest', undefined, { to: target, overwrite: 'if-newer' });
    expect(await readFile(dest, 'utf8')).toBe('local'); // the local file is newer

    await store.restore('latest', undefined, { to: target, overwrite: 'always' });
    expect(await readFile(dest, 'utf8')).toBe('snapshot');
    expect((await lstat(dest)).mtime.getTime()).toBe(old.getTime());
  });
});
