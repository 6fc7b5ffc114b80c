import { randomBytes } from 'node:crypto';
import { open, readFile, readdir, truncate, unlink, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { type Store, openStore } from '../../../layers/kloset/index.js';
import { TreeReader } from '../../../layers/kloset/snapshot/tree-reader.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

/** A store whose files each sit in their own data pack (64 KiB packs, one chunk per file). */
async function damagedStoreFixture(): Promise<{
  store: Store;
  location: string;
  src: string;
  files: Record<string, Buffer>;
}> {
  const { store, location } = await newStore({ packSize: 64 * 1024, compression: 'none' });
  const src = join(await tempDir(), 'src');
  const files = {
    'a.bin': randomBytes(100_000),
    'b.bin': randomBytes(100_000),
    'c.bin': randomBytes(100_000),
  };
  await writeTree(src, { ...files, sub: { dir: { 'note.txt': 'hello' } } });
  await store.backup([src], { tags: ['first'] });
  return { store, location, src, files };
}

async function packOf(store: Store, path: string): Promise<string> {
  const snap = await store.resolveSnapshot('latest');
  const { entry } = await new TreeReader(store.repo).resolve(snap.root, path);
  if (entry.type !== 'file') throw new Error('not a file');
  return store.repo.index.find(Buffer.from(entry.chunks[0]!, 'hex'))!.pack.name;
}

function packPath(location: string, pack: string): string {
  return join(location, 'packs', pack.slice(0, 2), pack);
}

async function expectOnlyFileAffected(
  store: Store,
  src: string,
  file: string,
  readData: boolean,
): Promise<void> {
  const report = await store.check({ readData });
  expect(report.ok).toBe(false);
  const snap = await store.resolveSnapshot('latest');
  const affecting = report.problems.filter((p) => p.paths.includes(`${src}/${file}`));
  expect(affecting).toHaveLength(1);
  expect(affecting[0]!.snapshots).toEqual([snap.id]);
  const allPaths = report.problems.flatMap((p) => p.paths);
  expect(allPaths).toEqual([`${src}/${file}`]);

  // restoring the damaged file fails loudly; the other files still restore intact
  const to = await tempDir();
  const result = await store.restore('latest', undefined, { to });
  expect(result.errors.map((e) => e.path)).toEqual([join(to, src, file)]);
  for (const other of ['a.bin', 'b.bin', 'c.bin'].filter((f) => f !== file)) {
    expect((await readFile(join(to, src, other))).length).toBe(100_000);
  }
  expect(await readFile(join(to, src, 'sub/note.txt'), 'utf8')).toBe('hello');
  await expect(readFile(join(to, src, file))).rejects.toThrow();
}

describe('corruption is detected and contained', () => {
  test('a healthy store checks clean, fast and with --read-data', async () => {
    const { store } = await damagedStoreFixture();
    for (const readData of [false, true]) {
      const report = await store.check({ readData });
      expect(report.problems).toEqual([]);
      expect(report.ok).toBe(true);
    }
  });

  test('a flipped byte inside a data pack is found by --read-data and names the file', async () => {
    const { store, location, src } = await damagedStoreFixture();
    const pack = packPath(location, await packOf(store, `${src}/b.bin`));
    const fh = await open(pack, 'r+');
    const byte = Buffer.alloc(1);
    await fh.read(byte, 0, 1, 5000);
    byte[0]! ^= 0xff;
    await fh.write(byte, 0, 1, 5000);
    await fh.close();
    // the fast check reads no data: it cannot see a flipped byte in the middle of a blob
    expect((await store.check()).ok).toBe(true);
    await expectOnlyFileAffected(store, src, 'b.bin', true);
  });

  test('a truncated pack is found by the fast check', async () => {
    const { store, location, src } = await damagedStoreFixture();
    await truncate(packPath(location, await packOf(store, `${src}/a.bin`)), 50_000);
    await expectOnlyFileAffected(store, src, 'a.bin', false);
  });

  test('a deleted pack is found by the fast check', async () => {
    const { store, location, src } = await damagedStoreFixture();
    await unlink(packPath(location, await packOf(store, `${src}/c.bin`)));
    const report = await store.check();
    expect(report.problems[0]!.message).toMatch(/missing/);
    await expectOnlyFileAffected(store, src, 'c.bin', false);
  });

  test('a damaged config is reported as damage, not as a wrong passphrase', async () => {
    const { location } = await damagedStoreFixture();
    const config = await readFile(join(location, 'config'));
    config[40]! ^= 1;
    await writeFile(join(location, 'config'), config);
    await expect(openStore(location, { passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'CORRUPT',
      message: expect.stringMatching(/config.*damaged/),
    });
  });

  test('a damaged index delta does not lock the store: check names what it hid', async () => {
    const { store, location, src } = await damagedStoreFixture();
    const firstDelta = (await readdir(join(location, 'index')))[0]!;
    // the second backup dedups note.txt against blobs only the first delta lists
    const second = await store.backup([join(src, 'sub')]);
    const data = await readFile(join(location, 'index', firstDelta));
    data[data.length - 40]! ^= 1;
    await writeFile(join(location, 'index', firstDelta), data);

    const damaged = await openStore(location, { passphrase: PASSPHRASE });
    expect((await damaged.snapshots()).map((s) => s.id)).toEqual([second.snapshot!.id]);
    const report = await damaged.check();
    expect(report.ok).toBe(false);
    expect(report.problems.map((p) => p.message)).toContainEqual(
      expect.stringMatching(/^index delta .*damaged/),
    );
    // the sub tree itself was deduplicated against the first backup: the whole directory is named
    const missing = report.problems.find((p) => p.paths.includes(`${src}/sub`));
    expect(missing?.message).toMatch(
      /directory unreadable: tree blob .* is only in pack .*, which no readable index lists \(run kloud repair\)/,
    );
    expect(missing?.snapshots).toEqual([second.snapshot!.id]);
  });
});
