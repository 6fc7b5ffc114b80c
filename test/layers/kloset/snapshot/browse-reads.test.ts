/** The engine's reads for browsing: `ls` a page at a time, and `find` in one snapshot. */
import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

async function backedUp() {
  const src = join(await tempDir(), 'src');
  await writeTree(src, { b: 'b', a: 'a', 'b-': 'x', d: { dir: { inner: 'i' } } });
  await writeFile(Buffer.from(`${src}/\xe9`, 'latin1'), 'latin-1 name'); // the byte E9: after every ASCII name
  const { store } = await newStore();
  const first = (await store.backup([src])).snapshot!.id;
  await writeFile(join(src, 'c'), 'c');
  const second = (await store.backup([src])).snapshot!.id;
  return { store, src, first, second };
}

test('ls pages a directory in byte order after a name, whether or not that name is there', async () => {
  const { store, src, second } = await backedUp();
  const names = async (page: { after?: string; limit: number }) =>
    (await store.ls(second, src, page)).map((e) => e.name);
  const latin = String.fromCharCode(0xdce9);
  expect(await names({ limit: 100 })).toEqual(['a', 'b', 'b-', 'c', 'd', latin]);
  expect(await names({ limit: 2 })).toEqual(['a', 'b']);
  expect(await names({ after: 'b', limit: 2 })).toEqual(['b-', 'c']);
  expect(await names({ after: 'bb', limit: 10 })).toEqual(['c', 'd', latin]);
  expect(await names({ after: 'd', limit: 10 })).toEqual([latin]);
  expect(await names({ after: latin, limit: 10 })).toEqual([]);
  // a file's ls is its own entry, page or not
  expect(await store.ls(second, `${src}/a`, { after: 'z', limit: 1 })).toEqual([
    expect.objectContaining({ path: `${src}/a`, type: 'file' }),
  ]);
  await store.close();
});

test('find in one snapshot searches that one only', async () => {
  const { store, first, second } = await backedUp();
  const found = async (opts: { snapshot?: string }) => {
    const out: string[] = [];
    for await (const f of store.find('c', opts)) out.push(`${f.snapshot.id.slice(0, 8)} ${f.entry.name}`);
    return out;
  };
  expect(await found({})).toEqual([`${second.slice(0, 8)} c`]);
  expect(await found({ snapshot: first })).toEqual([]);
  expect(await found({ snapshot: 'latest' })).toEqual([`${second.slice(0, 8)} c`]);
  await store.close();
});
