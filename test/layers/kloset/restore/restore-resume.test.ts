/** Restores that stop between entries and continue at their cursor; existing entries that differ; tar archives. */
import { createHash, randomBytes } from 'node:crypto';
import { readFile, utimes, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { extract } from 'tar-stream';
import { TarDestination } from '../../../../layers/kloset/index.js';
import type { RestoreCursor, Store } from '../../../../layers/kloset/index.js';
import { collect, newStore, removeTempDirs, tempDir, treeDigest, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

let store: Store;
let src: string;

beforeAll(async () => {
  ({ store } = await newStore());
  src = join(await tempDir(), 'src');
  await writeTree(src, {
    'top.txt': 'top\n',
    a: {
      dir: {
        'one.bin': randomBytes(50_000),
        b: { dir: { 'two.txt': 'two\n', c: { dir: { 'three.txt': '3\n' } } } },
      },
    },
    d: { dir: { link: { symlink: '../top.txt' }, 'four.txt': 'four\n' } },
  });
  expect((await store.backup([src])).errors).toEqual([]);
});

afterAll(() => store.close());

test('a restore stopped after every entry and resumed at its cursor writes the same tree, directory times included', async () => {
  const to = await tempDir();
  const cursors: RestoreCursor[] = [];
  let resumeAt: RestoreCursor | undefined;
  let files = 0;
  let dirs = 0;
  for (let runs = 0; runs < 100; runs++) {
    const result = await store.restore('latest', src, {
      to,
      stopBefore: () => true,
      ...(resumeAt && { resumeAt }),
    });
    expect(result.errors).toEqual([]);
    files += result.files + result.symlinks;
    dirs += result.dirs;
    resumeAt = result.resumeAt;
    if (!resumeAt) break;
    cursors.push(resumeAt);
  }
  expect(resumeAt).toBeUndefined();
  // each run starts one entry: the cursors name the next, in tree order (names sorted by bytes)
  expect(cursors).toEqual([
    [0, 0], // a
    [0, 0, 0], // a/b
    [0, 0, 0, 0], // a/b/c
    [0, 0, 0, 0, 0], // a/b/c/three.txt
    [0, 0, 0, 1], // a/b/two.txt
    [0, 0, 1], // a/one.bin
    [0, 1], // d
    [0, 1, 0], // d/four.txt
    [0, 1, 1], // d/link
    [0, 2], // top.txt
  ]);
  expect({ files, dirs }).toEqual({ files: 6, dirs: 5 });
  expect(await treeDigest(join(to, 'src'))).toEqual(await treeDigest(src));
});

test('reportDiffering: an existing file that differs is an error; one identical to the snapshot is not', async () => {
  const to = await tempDir();
  expect((await store.restore('latest', src, { to })).errors).toEqual([]);
  const changed = join(to, 'src', 'd', 'four.txt');
  await writeFile(changed, 'FOUR\n'); // same size, other content and time
  const same = join(to, 'src', 'top.txt');

  const again = await store.restore('latest', src, { to, reportDiffering: true });
  expect(again.errors).toEqual([
    { path: changed, message: "exists and differs from the snapshot's; not replaced (overwrite: never)" },
  ]);
  expect(again.skipped).toBe(6); // five files and a symbolic link
  expect(await readFile(changed, 'utf8')).toBe('FOUR\n');

  // the time alone tells too: a file of the snapshot's size with another time differs
  await utimes(same, new Date(0), new Date(0));
  const third = await store.restore('latest', src, { to, reportDiffering: true });
  expect(third.errors.map((e) => e.path).sort()).toEqual([changed, same].sort());
  // without the option, kept files are only counted, as before
  expect((await store.restore('latest', src, { to })).errors).toEqual([]);
});

test('a tar destination holds every entry with its content, mode and link target', async () => {
  const tar = new TarDestination('test.tar');
  const archive = collect(tar.archive);
  const result = await store.restore('latest', src, { destination: tar });
  await tar.close();
  expect(result.errors).toEqual([]);
  const entries = new Map<string, { type: string; mode: number; body: string; linkname?: string }>();
  const reading = extract();
  reading.on('entry', (header, stream, next) => {
    void collect(stream as AsyncIterable<Buffer>).then((body) => {
      entries.set(header.name, {
        type: header.type,
        mode: header.mode,
        body: createHash('sha256').update(body).digest('hex'),
        ...(header.linkname && { linkname: header.linkname }),
      });
      next();
    });
  });
  const finished = new Promise<void>((resolve, reject) =>
    reading.on('finish', () => resolve()).on('error', reject),
  );
  reading.end(await archive);
  await finished;
  const digest = await treeDigest(src, false);
  for (const [path, e] of Object.entries(digest)) {
    const name = e.type === 'dir' ? `src/${path}/` : `src/${path}`;
    const entry = entries.get(name);
    expect(entry).toBeDefined();
    if (e.type === 'file') expect(entry).toMatchObject({ type: 'file', mode: e.mode, body: e.sha256 });
    if (e.type === 'symlink') expect(entry).toMatchObject({ type: 'symlink', linkname: e.target });
    if (e.type === 'dir') expect(entry).toMatchObject({ type: 'directory', mode: e.mode });
  }
  expect(entries.size).toBe(Object.keys(digest).length + 1); // and src/ itself
});
