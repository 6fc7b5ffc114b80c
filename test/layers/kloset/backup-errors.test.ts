import { mkdir, symlink } from 'node:fs/promises';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { newStore, removeTempDirs, tempDir, treeDigest, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

describe('backup of imperfect sources', () => {
  test('special files are skipped with a warning', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'ok.txt': 'fine' });
    execFileSync('mkfifo', [join(src, 'pipe')]);
    const warnings: string[] = [];
    const result = await store.backup([src], { onWarning: (w) => warnings.push(w.path) });
    expect(result.warnings.map((w) => w.path)).toEqual([join(src, 'pipe')]);
    expect(warnings).toEqual([join(src, 'pipe')]);
    expect((await store.ls('latest', src)).map((e) => e.name)).toEqual(['ok.txt']);
  });

  test('an unreadable file (injected source failure) is recorded and the backup goes on', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'ok.txt': 'fine', 'broken.txt': 'x' });
    const { FsSource } = await import('../../../layers/kloset/connectors/fs/fs-source.js');
    const fs = new FsSource();
    const source = {
      stat: (p: string) => fs.stat(p),
      list: (p: string) => fs.list(p),
      read: (p: string, size: number) => {
        if (p.endsWith('broken.txt')) {
          return (async function* () {
            yield Buffer.from('first bytes read, then the disk fails');
            throw Object.assign(new Error('EIO: i/o error'), { code: 'EIO' });
          })();
        }
        return fs.read(p, size);
      },
    };
    const result = await store.backup([src], { source });
    expect(result.errors).toEqual([{ path: join(src, 'broken.txt'), message: 'EIO: i/o error' }]);
    expect((await store.ls('latest', src)).map((e) => e.name)).toEqual(['ok.txt']);
    expect(result.snapshot!.errors).toHaveLength(1);
  });

  test('excludes skip names anywhere and absolute path globs', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, {
      'keep.txt': 'k',
      'drop.log': 'd',
      node_modules: { dir: { 'x.js': 'x' } },
      sub: { dir: { 'also.log': 'a', 'keep.md': 'k', cache: { dir: { big: 'b' } } } },
    });
    await store.backup([src], { excludes: ['*.log', 'node_modules', `${src}/sub/cache`] });
    const to = await tempDir();
    await store.restore('latest', undefined, { to });
    expect(Object.keys(await treeDigest(join(to, src))).sort()).toEqual(['keep.txt', 'sub', 'sub/keep.md']);
  });

  test('a missing source fails before anything is written', async () => {
    const { store } = await newStore();
    await expect(store.backup(['/definitely/not/here'])).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(await store.snapshots()).toEqual([]);
  });

  test('a symlink given as a source is stored as a symlink', async () => {
    const { store } = await newStore();
    const dir = await tempDir();
    await mkdir(join(dir, 'real'));
    await symlink('real', join(dir, 'link'));
    await store.backup([join(dir, 'link')]);
    const [entry] = await store.ls('latest', join(dir, 'link'));
    expect(entry).toMatchObject({ type: 'symlink', target: 'real' });
  });
});
