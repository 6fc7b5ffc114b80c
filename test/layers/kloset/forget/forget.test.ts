/** forget applies its policy group by group and tombstones what no rule keeps. */
import { join } from 'node:path';
import { openStore } from '../../../../layers/kloset/index.js';
import { PASSPHRASE, newStore, removeTempDirs, tempDir, writeTree } from '../fixtures.js';

afterAll(removeTempDirs);

async function sixSnapshots() {
  const { store, location } = await newStore();
  const root = await tempDir();
  const [one, two] = [join(root, 'one'), join(root, 'two')];
  await writeTree(one, { f: 'one' });
  await writeTree(two, { g: 'two' });
  const take = async (src: string, hostname: string) =>
    (await store.backup([src], { hostname })).snapshot!.id;
  const a1 = await take(one, 'a');
  const b1 = await take(one, 'b');
  const a2 = await take(one, 'a');
  const a3 = await take(two, 'a');
  const b2 = await take(one, 'b');
  const a4 = await take(one, 'a');
  return { store, location, ids: { a1, a2, a3, a4, b1, b2 } };
}

test('each host + sources group keeps its own newest; dry run changes nothing', async () => {
  const { store, location, ids } = await sixSnapshots();
  const dry = await store.forget({ policy: { last: 1 }, dryRun: true });
  const keptOf = (groups: typeof dry) =>
    groups.flatMap((g) => g.decisions.filter((d) => d.reasons.length > 0).map((d) => d.snapshot.id)).sort();
  expect(keptOf(dry)).toEqual([ids.a3, ids.a4, ids.b2].sort());
  expect(dry.map((g) => [g.host, g.sources!.length, g.decisions.length]).sort()).toEqual([
    ['a', 1, 1],
    ['a', 1, 3],
    ['b', 1, 2],
  ]);
  expect(await store.snapshots()).toHaveLength(6);

  await store.forget({ policy: { last: 1 } });
  const reopened = await openStore(location, { passphrase: PASSPHRASE });
  expect((await reopened.snapshots()).map((s) => s.id).sort()).toEqual([ids.a3, ids.a4, ids.b2].sort());
  expect((await reopened.check({ readData: true })).ok).toBe(true);
});

test('--group-by sources puts both hosts in one group', async () => {
  const { store, ids } = await sixSnapshots();
  const groups = await store.forget({ policy: { last: 1 }, groupBy: ['sources'] });
  expect(groups).toHaveLength(2);
  expect(groups.every((g) => g.host === undefined)).toBe(true);
  expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([ids.a3, ids.a4].sort());
});

test('a policy that keeps nothing is refused unless forgetting everything is asked for', async () => {
  const { store } = await sixSnapshots();
  await expect(store.forget({ policy: {} })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  await expect(store.forget({ policy: { daily: 0 } })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
  expect(await store.snapshots()).toHaveLength(6);
  await store.forget({ policy: {}, allowForgetAll: true });
  expect(await store.snapshots()).toHaveLength(0);
});
