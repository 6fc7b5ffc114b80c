import { readFile, writeFile, mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import { createStore, openStore, storeNeedsPassphrase } from '../../../layers/kloset/index.js';
import { sha256Authenticator } from '../../../layers/kloset/crypto/mac.js';
import { ObjectType, openObject, sealObject } from '../../../layers/kloset/format/object.js';
import { FAST_KDF, PASSPHRASE, listFiles, newStore, removeTempDirs, tempDir, writeTree } from './fixtures.js';

afterAll(removeTempDirs);

describe('creating and opening stores', () => {
  test('a wrong passphrase is a clear error and writes nothing', async () => {
    const { location } = await newStore();
    const before = await listFiles(location);
    await expect(openStore(location, { passphrase: 'not it' })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
      message: `wrong passphrase for ${location}`,
    });
    expect(await listFiles(location)).toEqual(before);
  });

  test('an encrypted store needs a passphrase; a plaintext one does not and says so', async () => {
    const { location } = await newStore();
    expect(await storeNeedsPassphrase(location)).toBe(true);
    await expect(openStore(location, {})).rejects.toMatchObject({ code: 'PASSPHRASE_REQUIRED' });
    const plain = join(await tempDir(), 'plain');
    await createStore(plain, { plaintext: true });
    expect(await storeNeedsPassphrase(plain)).toBe(false);
    const store = await openStore(plain);
    expect((await store.info()).encryption).toBe('none');
    const src = join(await tempDir(), 'src');
    await writeTree(src, { 'readme.txt': 'visible in the pack' });
    await store.backup([src]);
    expect((await store.check({ readData: true })).ok).toBe(true);
  });

  test('create refuses where a store already exists and never overwrites it', async () => {
    const { location } = await newStore();
    const config = await readFile(join(location, 'config'));
    await expect(createStore(location, { passphrase: 'other', kdf: FAST_KDF })).rejects.toMatchObject({
      code: 'STORE_EXISTS',
    });
    expect((await readFile(join(location, 'config'))).equals(config)).toBe(true);
    await openStore(location, { passphrase: PASSPHRASE });
  });

  test('create refuses a non-empty directory and a file', async () => {
    const dir = await tempDir();
    await writeFile(join(dir, 'precious.txt'), 'keep me');
    await expect(createStore(dir, { passphrase: 'x', kdf: FAST_KDF })).rejects.toMatchObject({
      code: 'STORE_EXISTS',
    });
    expect(await listFiles(dir)).toEqual(['precious.txt']);
    await expect(
      createStore(join(dir, 'precious.txt'), { passphrase: 'x', kdf: FAST_KDF }),
    ).rejects.toMatchObject({
      code: 'NOT_A_DIRECTORY',
    });
  });

  test('opening a missing store or a plain directory says which', async () => {
    const dir = await tempDir();
    await expect(openStore(join(dir, 'nothing'), { passphrase: 'x' })).rejects.toMatchObject({
      code: 'STORE_NOT_FOUND',
    });
    await mkdir(join(dir, 'plain-dir'));
    await expect(openStore(join(dir, 'plain-dir'), { passphrase: 'x' })).rejects.toMatchObject({
      code: 'NOT_A_STORE',
    });
  });

  test('a store of a newer format version is refused with a clear message', async () => {
    const { location } = await newStore();
    const path = join(location, 'config');
    const { body } = openObject(await readFile(path), ObjectType.Config, sha256Authenticator, 'config');
    const newer = { ...JSON.parse(body.toString()), version: 2 };
    await writeFile(
      path,
      Buffer.concat(
        sealObject(ObjectType.Config, [Buffer.from(JSON.stringify(newer))], sha256Authenticator).parts,
      ),
    );
    await expect(openStore(location, { passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
      message: expect.stringMatching(/format version 2; upgrade kloud/),
    });
    const raw = await readFile(path);
    raw[5] = 7; // object wrapper version
    await writeFile(path, raw);
    await expect(openStore(location, { passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'UNSUPPORTED_VERSION',
    });
  });

  test('a second passphrase opens the store; the last key slot cannot be removed', async () => {
    const { location, store } = await newStore();
    const [only] = await store.keys();
    await expect(store.removeKey(only!.id)).rejects.toMatchObject({ code: 'LAST_KEY' });
    const added = await store.addKey('second passphrase');
    await openStore(location, { passphrase: 'second passphrase' });
    await store.removeKey(only!.id);
    await expect(openStore(location, { passphrase: PASSPHRASE })).rejects.toMatchObject({
      code: 'WRONG_PASSPHRASE',
    });
    expect((await store.keys()).map((k) => k.id)).toEqual([added]);
  });

  test('snapshot references: latest, full ID, unique prefix', async () => {
    const { store } = await newStore();
    const src = join(await tempDir(), 'src');
    await writeTree(src, { f: '1' });
    const a = (await store.backup([src], { tags: ['a'] })).snapshot!;
    await writeTree(src, { f: '2' });
    const b = (await store.backup([src], { tags: ['b'] })).snapshot!;
    expect((await store.resolveSnapshot('latest')).id).toBe(b.id);
    expect((await store.resolveSnapshot(a.id)).id).toBe(a.id);
    expect((await store.resolveSnapshot(a.id.slice(0, 8))).id).toBe(a.id);
    expect((await store.snapshots({ tag: 'a' })).map((s) => s.id)).toEqual([a.id]);
    expect((await store.snapshots()).map((s) => s.id)).toEqual([b.id, a.id]);
    await expect(store.resolveSnapshot('ffffffff')).rejects.toMatchObject({ code: 'SNAPSHOT_NOT_FOUND' });
    await expect(store.resolveSnapshot('zz')).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  });
});
