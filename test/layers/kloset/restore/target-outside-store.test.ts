import { readdir, symlink } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { Store } from '../../../../layers/kloset/index.js';
import { failureOf, newStore, removeTempDirs, writeTree } from '../fixtures.js';

let store: Store;
let location: string;
let data: string;
beforeAll(async () => {
  ({ store, location } = await newStore());
  data = join(dirname(location), 'data');
  await writeTree(data, { 'a.txt': 'alpha' });
  await store.backup([data]);
});
afterAll(async () => {
  await store.close();
  await removeTempDirs();
});

const restoreTo = (to: string) => store.restore('latest', data, { to });

describe('restore refuses a target inside the local store it reads', () => {
  test.each([
    ['the store root', () => location],
    ['a directory below it', () => join(location, 'restored/deeper')],
    ['a path that leaves and comes back', () => join(location, '..', 'store', 'packs')],
  ])('%s', async (_name, target) => {
    const before = await readdir(location);
    const err = await failureOf(restoreTo(target()));
    expect(err.code).toBe('INVALID_ARGUMENT');
    expect(err.message).toBe(
      `cannot restore into ${target()}: it is inside the store being read (${location}); choose a directory outside it`,
    );
    expect(await readdir(location)).toEqual(before);
  });

  test('a symbolic link that leads into the store', async () => {
    const link = join(dirname(location), 'link-to-store');
    await symlink(location, link);
    const err = await failureOf(restoreTo(join(link, 'restored')));
    expect(err.message).toMatch(/it is inside the store being read/);
  });
});

test('a target beside the store, whose name only starts like it, is fine', async () => {
  const beside = `${location}-restored`;
  const result = await restoreTo(beside);
  expect(result.files).toBe(1);
  expect(await readdir(join(beside, 'data'))).toEqual(['a.txt']);
});
