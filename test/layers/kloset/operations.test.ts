import { rm, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { openStore } from '../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

async function all<T>(it: AsyncIterable<T>): Promise<T[]> {
  const out: T[] = [];
  for await (const x of it) out.push(x);
  return out;
}

describe('diff, find, rm and passphrases', () => {
  test('diff names added, removed, modified and metadata-only changes, and nothing else', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    const mtime = new Date('2024-05-01T00:00:00Z');
    await writeTree(src, {
      'same.txt': { content: 'same', mtime },
      'edit.txt': { content: 'before', mtime },
      'chmod.txt': { content: 'x', mtime },
      gone: { dir: { 'a.txt': 'a', 'b.txt': 'b' } },
      keep: { dir: { 'k.txt': { content: 'k', mtime } } },
    });
    const a = (await store.backup([src])).snapshot!;
    await writeFile(join(src, 'edit.txt'), 'after!');
    await chmod(join(src, 'chmod.txt'), 0o600);
    await rm(join(src, 'gone'), { recursive: true });
    await writeTree(src, { 'new.txt': 'new' });
    const b = (await store.backup([src])).snapshot!;
    const changes = await all(store.diff({ ref: a.id, path: src }, { ref: b.id, path: src }));
    const by = Object.fromEntries(changes.map((c) => [c.path, c.change]));
    expect(by).toEqual({
      '/chmod.txt': 'metadata',
      '/edit.txt': 'modified',
      '/gone': 'removed',
      '/gone/a.txt': 'removed',
      '/gone/b.txt': 'removed',
      '/new.txt': 'added',
    });
    expect(await all(store.diff({ ref: b.id }, { ref: b.id }))).toEqual([]);
    // two files compared directly
    expect(
      await all(store.diff({ ref: a.id, path: `${src}/edit.txt` }, { ref: b.id, path: `${src}/edit.txt` })),
    ).toEqual([{ path: '/', change: 'modified', type: 'file' }]);
  });

  test('diff reports a type change, and what appeared or vanished below it', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { x: 'a file', y: { dir: { 'inner.txt': 'i' } } });
    const a = (await store.backup([src])).snapshot!;
    await rm(join(src, 'x'));
    await rm(join(src, 'y'), { recursive: true });
    await writeTree(src, { x: { dir: { 'new.txt': 'n' } }, y: { symlink: 'x' } });
    const b = (await store.backup([src])).snapshot!;
    const changes = await all(store.diff({ ref: a.id, path: src }, { ref: b.id, path: src }));
    expect(changes).toEqual([
      { path: '/x', change: 'type', type: 'dir' },
      { path: '/x/new.txt', change: 'added', type: 'file' },
      { path: '/y', change: 'type', type: 'symlink' },
      { path: '/y/inner.txt', change: 'removed', type: 'file' },
    ]);
  });

  test('find lists the snapshots that hold matching paths', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'app.conf': 'a', sub: { dir: { 'db.conf': 'b', 'notes.txt': 'n' } } });
    const first = (await store.backup([src])).snapshot!;
    await rm(join(src, 'sub/db.conf'));
    const second = (await store.backup([src])).snapshot!;
    const found = await all(store.find('*.conf'));
    const paths = found.map((f) => `${f.snapshot.id === first.id ? 1 : 2}:${f.entry.path}`).sort();
    expect(paths).toEqual([`1:${src}/app.conf`, `1:${src}/sub/db.conf`, `2:${src}/app.conf`]);
    expect((await all(store.find(`${src}/sub/*`))).map((f) => f.snapshot.id)).toEqual([
      second.id,
      first.id,
      first.id,
    ]);
  });

  test('rm tombstones by ID, by tag and by age, and leaves the rest restorable', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { f: '1' });
    const a = (await store.backup([src], { tags: ['weekly'] })).snapshot!;
    const b = (await store.backup([src], { tags: ['daily'] })).snapshot!;
    const c = (await store.backup([src], { tags: ['daily'] })).snapshot!;
    expect((await store.rm({ refs: [a.id.slice(0, 8)] })).map((s) => s.id)).toEqual([a.id]);
    expect((await store.snapshots()).map((s) => s.id)).toEqual([c.id, b.id]);
    expect((await store.rm({ tag: 'daily', olderThan: new Date(c.time) })).map((s) => s.id)).toEqual([b.id]);
    const reopened = await openStore(location, { passphrase: PASSPHRASE });
    expect((await reopened.snapshots()).map((s) => s.id)).toEqual([c.id]);
    expect((await reopened.check({ readData: true })).ok).toBe(true);
    await expect(store.rm({})).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });

  test('passwd replaces the passphrase without touching data', async () => {
    const { store, location } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { f: 'data' });
    await store.backup([src]);
    const packsBefore = (await store.info()).storedBytes;
    await store.changePassphrase('new passphrase');
    await expect(openStore(location, { passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
    const reopened = await openStore(location, { passphrase: 'new passphrase' });
    expect((await reopened.keys()).length).toBe(1);
    expect((await reopened.check({ readData: true })).ok).toBe(true);
    expect((await reopened.info()).storedBytes).toBeLessThan(packsBefore + 2000);
  });
});
