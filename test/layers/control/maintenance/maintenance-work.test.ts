/**
 * The maintenance task against a real store: a directory app made ready through StoreApps on
 * dynalite, its retention set through the same service, the task's slices run as the TaskWorker
 * runs them, with deadlines so tight that every slice stops after one unit of work.
 */
import { randomBytes } from 'node:crypto';
import { rm } from 'node:fs/promises';
import { join } from 'node:path';
import { Unprocessable } from '../../../../layers/control/errors.js';
import {
  MaintenanceParameters,
  MaintenanceWork,
} from '../../../../layers/control/maintenance/maintenance-work.js';
import { Retention, retentionPolicy } from '../../../../layers/control/maintenance/retention.js';
import { StagingArea } from '../../../../layers/control/staging/staging-area.js';
import { type StoreApp, UpdateStoreAppBody } from '../../../../layers/control/store-apps/store-app.js';
import { TASK_KINDS } from '../../../../layers/control/tasks/task-kinds.js';
import { s3rverForTests } from '../../kloset/connectors/s3/s3rver.js';
import { tempDir, treeDigest, writeTree } from '../../kloset/fixtures.js';
import { dynaliteForTests } from '../dynalite-table.js';
import { runSlices, type TaskApps, taskApps, taskRecord } from '../tasks/task-apps.js';

const STAGING = 'kloud-maintenance-staging';
const dynamo = dynaliteForTests();
const s3 = s3rverForTests([STAGING]);

let t: TaskApps;

const fsApp = async (name: string) =>
  t.ready({
    resourceId: (await t.directory(name)).resourceId,
    name,
    storageType: 'standard',
    configuration: {},
  });

const withStore = async <T>(app: StoreApp, call: Parameters<TaskApps['stores']['withStore']>[1]) =>
  t.stores.withStore(await t.repository.get(app.id), call) as Promise<T>;

/** Four backups of a changing tree: each round's file is in its snapshot only. */
async function history(app: StoreApp) {
  const src = join(await tempDir(), 'src');
  await writeTree(src, { shared: randomBytes(50_000) });
  const digests = new Map<string, unknown>();
  for (let i = 0; i < 4; i++) {
    if (i > 0) await rm(join(src, `round-${i - 1}.bin`));
    await writeTree(src, { [`round-${i}.bin`]: randomBytes(120_000) });
    const record = await t.repository.get(app.id);
    const id = await t.stores.withStore(record, async (store) => (await store.backup([src])).snapshot!.id);
    digests.set(id, await treeDigest(src));
  }
  return { src, ids: [...digests.keys()], digests };
}

const maintenance = (
  work: MaintenanceWork,
  appId: string,
  parameters: Record<string, unknown>,
  sliceMs = 0,
) => runSlices(work, MaintenanceParameters, taskRecord('maintenance', appId, parameters), sliceMs);

beforeAll(async () => {
  t = await taskApps(dynamo.table());
});

test('a retention policy is validated: at least one rule, counts of at least 1, durations as forget takes them', () => {
  expect(Retention.safeParse({}).success).toBe(false);
  expect(Retention.safeParse({ keepTags: [] }).success).toBe(false);
  expect(Retention.safeParse({ keepLast: 0 }).success).toBe(false);
  expect(Retention.safeParse({ keepDaily: 1.5 }).success).toBe(false);
  expect(Retention.safeParse({ keepWithin: '30x' }).success).toBe(false);
  expect(Retention.safeParse({ keepWithin: 'm1y' }).success).toBe(false);
  expect(Retention.safeParse({ keepLast: 3, secret: 'x' }).success).toBe(false);
  expect(UpdateStoreAppBody.safeParse({ retention: {} }).success).toBe(false);
  const ok = Retention.parse({ keepDaily: 7, keepWithin: '1y2m', keepTags: ['release'] });
  expect(retentionPolicy(ok)).toEqual({
    daily: 7,
    within: { years: 1, months: 2, days: 0, hours: 0 },
    tags: ['release'],
  });
});

test('an app keeps its retention, shows it, and drops it on null; nothing else of the app changes', async () => {
  const app = await fsApp('retained');
  const retention = { keepLast: 3, keepWeekly: 4 };
  const updated = await t.apps.update(app.id, UpdateStoreAppBody.parse({ retention }));
  expect(updated).toMatchObject({ retention, state: 'ready' });
  expect(await t.apps.get(app.id)).toMatchObject({ retention });
  const dropped = await t.apps.update(app.id, UpdateStoreAppBody.parse({ retention: null }));
  expect(dropped.retention).toBeUndefined();
  expect((await t.apps.get(app.id)).retention).toBeUndefined();
});

test('without a policy in the request or on the app, a maintenance is refused before it exists; it holds the store', async () => {
  const app = await fsApp('unretained');
  const context = { readyApp: (id: string) => t.repository.get(id) } as Parameters<
    NonNullable<(typeof TASK_KINDS)['maintenance']>['precheck']
  >[2];
  const kind = TASK_KINDS.maintenance!;
  await expect(kind.precheck(app.id, {}, context)).rejects.toMatchObject({ code: 'NO_RETENTION' });
  await expect(kind.precheck(app.id, {}, context)).rejects.toBeInstanceOf(Unprocessable);
  await kind.precheck(app.id, { retention: { keepLast: 1 } }, context);
  expect(await kind.exclusiveOn(app.id, {}, context)).toEqual({ key: `STORE#${app.id}`, what: 'the store' });
});

test("a dry run reports what the app's policy forgets and would free, and changes nothing", async () => {
  const app = await fsApp('dry');
  const { ids } = await history(app);
  await t.apps.update(app.id, UpdateStoreAppBody.parse({ retention: { keepLast: 2 } }));
  const work = new MaintenanceWork(t.stores, { graceMs: 0 });
  const { result, slices } = await maintenance(work, app.id, { dryRun: true });
  expect(slices).toBe(1);
  expect(result).toMatchObject({ dryRun: true, retention: { keepLast: 2 } });
  expect(result.snapshots).toEqual({
    forgotten: [ids[1], ids[0]],
    forgottenCount: 2,
    kept: [ids[3], ids[2]],
    keptCount: 2,
  });
  // round 1's file is alone in a pack no kept snapshot needs; round 0's shares one with a kept file
  expect(result.plannedBytes).toBeGreaterThan(120_000);
  expect(result.packs.repacked).toBeGreaterThan(0);
  const left = await withStore<string[]>(app, async (store) => (await store.snapshots()).map((s) => s.id));
  expect(left.sort()).toEqual([...ids].sort());
  expect(await withStore(app, (store) => store.prune({ dryRun: true, graceMs: 0 }))).toMatchObject({
    waiting: 0,
  });
});

test('a maintenance in many slices forgets by the policy and prunes; the next one deletes; kept snapshots restore whole', async () => {
  const app = await fsApp('maintained');
  const { src, ids, digests } = await history(app);
  const work = new MaintenanceWork(t.stores, { graceMs: 0 });

  const first = await maintenance(work, app.id, { retention: { keepLast: 2 } });
  // forget, then a prune step a slice: plan, repack, consolidate
  expect(first.slices).toBeGreaterThan(2);
  expect(first.result.snapshots).toMatchObject({ forgottenCount: 2, keptCount: 2, kept: [ids[3], ids[2]] });
  expect(first.result.packs.planned).toBeGreaterThan(0);
  expect(first.result).toMatchObject({ freedBytes: 0, dryRun: false });
  expect(first.progress.map((p) => p.unit)).toContain('trees');

  const second = await maintenance(work, app.id, { retention: { keepLast: 2 } });
  expect(second.result.snapshots).toMatchObject({ forgottenCount: 0, keptCount: 2 });
  expect(second.result.packs.deleted).toBeGreaterThanOrEqual(first.result.packs.planned);
  expect(second.result.freedBytes).toBeGreaterThanOrEqual(first.result.plannedBytes);
  // the 240 KB only the forgotten rounds held (random: incompressible) are gone
  expect(second.result.freedBytes).toBeGreaterThan(200_000);

  await withStore(app, async (store) => {
    expect((await store.snapshots()).map((s) => s.id).sort()).toEqual([ids[2], ids[3]].sort());
    expect((await store.check({ readData: true })).problems).toEqual([]);
    for (const id of [ids[2]!, ids[3]!]) {
      const to = await tempDir();
      expect((await store.restore(id, undefined, { to })).errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(digests.get(id));
    }
  });
});

test("a mark longer than a slice waits in the staging bucket under the task's prefix and continues in the next slice", async () => {
  const app = await fsApp('long-mark');
  const { src, ids, digests } = await history(app);
  const staging = new StagingArea(s3.raw, STAGING);
  const saved = new Set<string>();
  const upload = staging.upload.bind(staging);
  staging.upload = (key, body) => (saved.add(key), upload(key, body));
  const work = new MaintenanceWork(t.stores, { graceMs: 0 }, staging);

  const first = await maintenance(work, app.id, { retention: { keepLast: 2 } });
  let wholeMark = 0;
  await withStore(app, (store) =>
    store.prune({ dryRun: true, onProgress: (p) => p.phase === 'walk' && wholeMark++ }),
  );
  const treesRead = first.progress.filter((p) => p.unit === 'trees').length;
  // marking afresh, each prune slice (all but the forget's) would read every tree
  expect(first.slices - 1).toBeGreaterThan(2);
  expect(treesRead).toBeLessThan((first.slices - 1) * wholeMark);
  expect([...saved]).toHaveLength(1);
  expect([...saved][0]).toMatch(/^maintenance\/[0-9a-f-]{36}\/prune-mark$/);
  // the finished run removed its state
  expect(await staging.getBytes([...saved][0]!)).toBeUndefined();
  expect(first.result.packs.planned).toBeGreaterThan(0);

  await withStore(app, async (store) => {
    expect((await store.check({ readData: true })).problems).toEqual([]);
    for (const id of [ids[2]!, ids[3]!]) {
      const to = await tempDir();
      expect((await store.restore(id, undefined, { to })).errors).toEqual([]);
      expect(await treeDigest(join(to, src))).toEqual(digests.get(id));
    }
  });
});
