import { mkdir, readdir, writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { KlosetAdapter, type Store } from '../../../../layers/control/engine/kloset-adapter.js';
import type { ConnectorTarget } from '../../../../layers/control/engine/connector-target.js';
import { KlosetError, openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from '../../kloset/fixtures.js';

afterAll(removeTempDirs);

const targetAt = (location: string): ConnectorTarget => ({ location, printable: '', options: {}, files: {} });

/**
 * The Store object a call was given, the index deltas merged when it was handed over (before any
 * call of the Store refreshes them itself), and the IDs of the snapshots it listed.
 */
async function listed(adapter: KlosetAdapter, target: ConnectorTarget, passphrase = PASSPHRASE) {
  return adapter.withStore(target, passphrase, async (store) => ({
    store,
    deltas: [...store.repo.indexDeltas],
    ids: (await store.snapshots()).map((s) => s.id),
  }));
}

/** Another writer (another process, as far as the adapter knows) backs up a small tree. */
async function backUpElsewhere(location: string): Promise<string> {
  const source = join(await tempDir('kloud-adapter-src-'), 'data');
  await writeTree(source, { 'a.txt': `written at ${process.hrtime.bigint()}` });
  const store = await openStore(location, { passphrase: PASSPHRASE });
  try {
    return (await store.backup([source])).snapshot!.id;
  } finally {
    await store.close();
  }
}

test('key files left by a call the timeout killed are removed at the cold start', async () => {
  const dir = await tempDir('kloud-adapter-');
  const cacheDir = join(dir, 'cache');
  const left = join(cacheDir, 'connector', 'killed-call');
  await mkdir(left, { recursive: true });
  await writeFile(join(left, 'identity'), 'PRIVATE KEY');
  const adapter = new KlosetAdapter(cacheDir);
  const target = { location: join(dir, 'nothing'), printable: '', options: {}, files: {} };
  expect(await adapter.test(target, 'passphrase')).toBe('absent');
  expect(await readdir(cacheDir)).not.toContain('connector');
});

describe('stores kept open between calls', () => {
  let location: string;
  let adapter: KlosetAdapter;

  beforeEach(async () => {
    const made = await newStore();
    await made.store.close();
    location = made.location;
    adapter = new KlosetAdapter(join(await tempDir('kloud-adapter-cache-'), 'cache'));
  });

  test('a kept store serves the next call and reads what another writer committed meanwhile', async () => {
    const first = await listed(adapter, targetAt(location));
    expect(first.ids).toEqual([]);
    const id = await backUpElsewhere(location);
    const second = await listed(adapter, targetAt(location));
    expect(second.store).toBe(first.store);
    expect(second.deltas.length).toBeGreaterThan(first.deltas.length);
    expect(second.ids).toEqual([id]);
    // and what it writes itself, the next call reads from the store as well
    const again = await backUpElsewhere(location);
    expect((await listed(adapter, targetAt(location))).ids.sort()).toEqual([id, again].sort());
  });

  test('another passphrase opens the store afresh, and a passphrase taken out of the store no longer opens it', async () => {
    const first = await listed(adapter, targetAt(location));
    const other = 'another passphrase of the same store';
    const store = await openStore(location, { passphrase: PASSPHRASE });
    await store.changePassphrase(other);
    await store.close();
    const withOther = await listed(adapter, targetAt(location), other);
    expect(withOther.store).not.toBe(first.store);
    await expect(listed(adapter, targetAt(location))).rejects.toMatchObject({ code: 'WRONG_PASSPHRASE' });
    expect((await listed(adapter, targetAt(location), other)).store).toBe(withOther.store);
  });

  test('another location is another store, and at most two are kept', async () => {
    const others = await Promise.all([newStore(), newStore()]);
    await Promise.all(others.map((o) => o.store.close()));
    const first = await listed(adapter, targetAt(location));
    const second = await listed(adapter, targetAt(others[0]!.location));
    expect(second.store).not.toBe(first.store);
    expect((await listed(adapter, targetAt(location))).store).toBe(first.store);
    // a third store: the least recently used (the second) is closed
    await listed(adapter, targetAt(others[1]!.location));
    expect((await listed(adapter, targetAt(location))).store).toBe(first.store);
    expect((await listed(adapter, targetAt(others[0]!.location))).store).not.toBe(second.store);
  });

  test('within an index memory budget, opening another store closes the kept ones first: one store in memory at a time', async () => {
    const budgeted = new KlosetAdapter(join(await tempDir('kloud-adapter-cache-'), 'cache'), 4 * 2 ** 20);
    const other = await newStore();
    await other.store.close();
    const first = await listed(budgeted, targetAt(location));
    expect((await listed(budgeted, targetAt(location))).store).toBe(first.store);
    await listed(budgeted, targetAt(other.location));
    expect((await listed(budgeted, targetAt(location))).store).not.toBe(first.store);
  });

  test('a call that fails closes its store: the next call opens it afresh', async () => {
    let failed: Store | undefined;
    const refused = adapter.withStore(targetAt(location), PASSPHRASE, async (store) => {
      failed = store;
      throw new KlosetError('IO', 'the call failed');
    });
    await expect(refused).rejects.toThrow('the call failed');
    expect((await listed(adapter, targetAt(location))).store).not.toBe(failed);
  });

  test('two calls at once never share a store', async () => {
    const seen: Store[] = [];
    let bothIn!: () => void;
    const together = new Promise<void>((resolve) => (bothIn = resolve));
    const call = () =>
      adapter.withStore(targetAt(location), PASSPHRASE, async (store) => {
        seen.push(store);
        if (seen.length === 2) bothIn();
        await together;
        return (await store.snapshots()).length;
      });
    await listed(adapter, targetAt(location));
    expect(await Promise.all([call(), call()])).toEqual([0, 0]);
    expect(seen[0]).not.toBe(seen[1]);
  });
});
