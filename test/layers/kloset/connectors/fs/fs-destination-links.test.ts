import { readFile, readdir, stat, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { FsDestination } from '../../../../../layers/kloset/connectors/fs/fs-destination.js';
import { removeTempDirs, tempDir } from '../../fixtures.js';

afterAll(removeTempDirs);

describe('a hard link restored over an existing file', () => {
  test('replaces it when the link can be made', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'first.txt'), 'linked');
    await writeFile(join(root, 'old.txt'), 'old');
    await new FsDestination(root).link('first.txt', 'old.txt', true);
    expect(await readFile(join(root, 'old.txt'), 'utf8')).toBe('linked');
    expect((await stat(join(root, 'old.txt'))).ino).toBe((await stat(join(root, 'first.txt'))).ino);
    expect((await readdir(root)).sort()).toEqual(['first.txt', 'old.txt']);
  });

  test('keeps the old file when the link fails', async () => {
    const root = await tempDir();
    await writeFile(join(root, 'old.txt'), 'old');
    await expect(new FsDestination(root).link('missing.txt', 'old.txt', true)).rejects.toMatchObject({
      code: 'ENOENT',
    });
    expect(await readFile(join(root, 'old.txt'), 'utf8')).toBe('old');
    expect(await readdir(root)).toEqual(['old.txt']);
  });
});
